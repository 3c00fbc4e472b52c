/// A minimal, strict protobuf reader for the two messages IPLD uses (DAG-PB and UnixFS `Data`).
///
/// Implements the wire format of https://protobuf.dev/programming-guides/encoding/ for wire
/// types 0 (varint) and 2 (length-delimited) only. Varints must be minimal and fit 64 bits,
/// so that a decoded message re-encodes to the same bytes.
struct ProtobufReader {
    /// The protobuf wire types these messages use.
    enum WireType: UInt8 {
        case varint = 0
        case lengthDelimited = 2
        case fixed32 = 5
    }

    /// The longest protobuf varint (64 bits of value).
    static let maxVarintLength = 10

    private let bytes: ArraySlice<UInt8>
    private var index: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index == bytes.endIndex }

    mutating func readVarint(_ context: String) throws -> UInt64 {
        var value: UInt64 = 0
        var length = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            index += 1
            guard length < Self.maxVarintLength else {
                throw IPLDError(.malformedInput, "\(context): varint longer than \(Self.maxVarintLength) bytes")
            }
            if length == 9 && byte > 1 {
                throw IPLDError(.malformedInput, "\(context): varint overflows 64 bits")
            }
            value |= UInt64(byte & 0x7f) << UInt64(7 * length)
            length += 1
            if byte & 0x80 == 0 {
                if byte == 0 && length > 1 {
                    throw IPLDError(.nonCanonical, "\(context): non-minimal varint")
                }
                return value
            }
        }
        throw IPLDError(.truncated, "\(context): input ends inside a varint")
    }

    /// Reads a field key: the field number and its wire type.
    mutating func readKey(_ context: String) throws -> (field: UInt64, wireType: WireType) {
        let key = try readVarint(context)
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw IPLDError(.malformedInput, "\(context): unsupported wire type \(key & 7)")
        }
        return (key >> 3, wireType)
    }

    /// Reads a little-endian fixed32 field.
    mutating func readFixed32(_ context: String) throws -> UInt32 {
        guard bytes.endIndex - index >= 4 else {
            throw IPLDError(.truncated, "\(context): input ends inside a fixed32")
        }
        defer { index += 4 }
        return bytes[index..<index + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads a length-delimited field's bytes, checking the length against what is left.
    mutating func readLengthDelimited(_ context: String) throws -> ArraySlice<UInt8> {
        let length = try readVarint(context)
        guard length <= UInt64(bytes.endIndex - index) else {
            throw IPLDError(.truncated, "\(context): length \(length) exceeds the \(bytes.endIndex - index) bytes left")
        }
        defer { index += Int(length) }
        return bytes[index..<index + Int(length)]
    }
}

/// Protobuf writing helpers (wire types 0 and 2).
enum ProtobufWriter {
    static func writeKey(field: UInt64, wireType: ProtobufReader.WireType, into bytes: inout [UInt8]) {
        writeVarint(field << 3 | UInt64(wireType.rawValue), into: &bytes)
    }

    static func writeVarint(_ value: UInt64, into bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    static func writeBytes(field: UInt64, _ data: some Collection<UInt8>, into bytes: inout [UInt8]) {
        writeKey(field: field, wireType: .lengthDelimited, into: &bytes)
        writeVarint(UInt64(data.count), into: &bytes)
        bytes.append(contentsOf: data)
    }

    static func writeUInt(field: UInt64, _ value: UInt64, into bytes: inout [UInt8]) {
        writeKey(field: field, wireType: .varint, into: &bytes)
        writeVarint(value, into: &bytes)
    }

    static func writeFixed32(field: UInt64, _ value: UInt32, into bytes: inout [UInt8]) {
        writeKey(field: field, wireType: .fixed32, into: &bytes)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    static func varintLength(_ value: UInt64) -> Int {
        var length = 1
        var v = value
        while v >= 0x80 { v >>= 7; length += 1 }
        return length
    }
}
