/// Reads big-endian integers and length-prefixed byte strings, checking every length against a
/// named maximum before allocating; the reading half of every binary format in this module.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    /// What is being parsed, for error messages.
    let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.offset = 0
        self.context = context
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func readBytes(count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw ChatCryptoError(.truncated, "\(context): needed \(count) bytes, \(remaining) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    mutating func readUInt8() throws -> UInt8 {
        guard remaining >= 1 else { throw ChatCryptoError(.truncated, "\(context): needed 1 byte, 0 left") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws -> UInt16 {
        let raw = try readBytes(count: 2)
        return UInt16(raw[0]) << 8 | UInt16(raw[1])
    }

    mutating func readUInt32() throws -> UInt32 {
        try readBytes(count: 4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readUInt64() throws -> UInt64 {
        try readBytes(count: 8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func readBool() throws -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        case let other: throw ChatCryptoError(.malformedInput, "\(context): flag byte \(other) is neither 0 nor 1")
        }
    }

    /// Reads a one-byte length then that many bytes, refusing lengths above `maximum`.
    mutating func readShort(maximum: Int, _ field: String) throws -> [UInt8] {
        let length = Int(try readUInt8())
        return try readChecked(length: length, maximum: maximum, field)
    }

    /// Reads a two-byte length then that many bytes, refusing lengths above `maximum`.
    mutating func readLong(maximum: Int, _ field: String) throws -> [UInt8] {
        let length = Int(try readUInt16())
        return try readChecked(length: length, maximum: maximum, field)
    }

    /// Reads a four-byte length then that many bytes, refusing lengths above `maximum`.
    mutating func readHuge(maximum: Int, _ field: String) throws -> [UInt8] {
        let length = Int(try readUInt32())
        return try readChecked(length: length, maximum: maximum, field)
    }

    private mutating func readChecked(length: Int, maximum: Int, _ field: String) throws -> [UInt8] {
        guard length <= maximum else {
            throw ChatCryptoError(.lengthExceeded, "\(context): \(field) of \(length) bytes exceeds \(maximum)")
        }
        return try readBytes(count: length)
    }

    /// Throws unless every byte was consumed.
    func expectEnd() throws {
        guard isAtEnd else {
            throw ChatCryptoError(.malformedInput, "\(context): \(remaining) trailing bytes")
        }
    }
}
