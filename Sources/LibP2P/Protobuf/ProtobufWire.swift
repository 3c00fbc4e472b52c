/// Minimal protobuf wire-format reader and writer for the handful of small libp2p messages
/// (key protobuf, Noise handshake payload, Identify). Proto2/proto3 wire format:
/// https://protobuf.dev/programming-guides/encoding/
///
/// Only wire types 0 (varint), 1 (64-bit), 2 (length-delimited) and 5 (32-bit) are accepted;
/// groups (3, 4) are refused. Every length is checked against the remaining input before any
/// allocation, so a hostile length cannot make us allocate.
public struct ProtobufWriter: Sendable {
    /// The encoded bytes so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Appends a base-128 varint.
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Writes field `number` as a varint (wire type 0).
    public mutating func writeVarint(field number: Int, _ value: UInt64) {
        appendVarint(UInt64(number) << 3 | 0)
        appendVarint(value)
    }

    /// Writes field `number` as length-delimited bytes (wire type 2).
    public mutating func writeBytes(field number: Int, _ value: some Collection<UInt8>) {
        appendVarint(UInt64(number) << 3 | 2)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Writes field `number` as a UTF-8 string (wire type 2).
    public mutating func writeString(field number: Int, _ value: String) {
        writeBytes(field: number, Array(value.utf8))
    }
}

/// One field read from a protobuf message.
public struct ProtobufField: Sendable, Equatable {
    /// The value of a field, by wire type.
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes([UInt8])
        case fixed32(UInt32)
    }

    /// The field number.
    public var number: Int
    /// The field's value.
    public var value: Value

    /// A field.
    public init(number: Int, value: Value) {
        self.number = number
        self.value = value
    }

    /// The varint value, or a `malformedInput` error if the field has another wire type.
    public func varint() throws -> UInt64 {
        guard case .varint(let v) = value else {
            throw LibP2PError(.malformedInput, "protobuf field \(number): expected a varint")
        }
        return v
    }

    /// The length-delimited payload, or a `malformedInput` error for another wire type.
    public func bytes() throws -> [UInt8] {
        guard case .bytes(let b) = value else {
            throw LibP2PError(.malformedInput, "protobuf field \(number): expected bytes")
        }
        return b
    }

    /// The payload decoded as UTF-8, refusing invalid UTF-8.
    public func string() throws -> String {
        let b = try bytes()
        guard let s = String(validating: b, as: UTF8.self) else {
            throw LibP2PError(.malformedInput, "protobuf field \(number): invalid UTF-8")
        }
        return s
    }
}

/// Iterates over the fields of one encoded protobuf message.
public struct ProtobufReader: Sendable {
    /// The bytes being read (shared, not copied); fields lie in `offset..<end`.
    public let input: [UInt8]
    private var offset: Int
    private let end: Int

    public init(_ input: [UInt8]) {
        self.input = input
        self.offset = 0
        self.end = input.count
    }

    /// A reader of the message embedded at `range` of `input` (a length-delimited field found
    /// by ``nextInPlace()``), without copying it out.
    public init(_ input: [UInt8], range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= input.count, "range outside the input")
        self.input = input
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    /// Whether all input has been consumed.
    public var isAtEnd: Bool { offset >= end }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else {
                throw LibP2PError(.malformedInput, "protobuf: truncated varint")
            }
            let byte = input[offset]
            offset += 1
            if shift == 63 && byte > 1 {
                throw LibP2PError(.malformedInput, "protobuf: varint overflows 64 bits")
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 {
                throw LibP2PError(.malformedInput, "protobuf: varint longer than 10 bytes")
            }
        }
    }

    /// Reads the next field, or returns `nil` at the end of the message.
    public mutating func next() throws -> ProtobufField? {
        guard let field = try nextInPlace() else { return nil }
        if let range = field.range {
            return ProtobufField(number: field.number, value: .bytes(Array(input[range])))
        }
        return ProtobufField(number: field.number, value: field.value!)
    }

    /// Reads the next field like ``next()``, except that a length-delimited field's payload is
    /// not copied: it is given as its `range` in ``input`` (and `value` is `nil`). Other fields
    /// have a `value` and no `range`.
    public mutating func nextInPlace() throws -> (number: Int, value: ProtobufField.Value?, range: Range<Int>?)? {
        guard !isAtEnd else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw LibP2PError(.malformedInput, "protobuf: invalid field number \(number)")
        }
        let value: ProtobufField.Value
        switch key & 7 {
        case 0:
            value = .varint(try readVarint())
        case 1:
            guard end - offset >= 8 else {
                throw LibP2PError(.malformedInput, "protobuf: truncated fixed64")
            }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(input[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            value = .fixed64(v)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - offset) else {
                throw LibP2PError(.malformedInput, "protobuf: field \(number) length \(length) exceeds message")
            }
            let range = offset..<offset + Int(length)
            offset += Int(length)
            return (Int(number), nil, range)
        case 5:
            guard end - offset >= 4 else {
                throw LibP2PError(.malformedInput, "protobuf: truncated fixed32")
            }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(input[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            value = .fixed32(v)
        default:
            throw LibP2PError(.malformedInput, "protobuf: unsupported wire type \(key & 7)")
        }
        return (Int(number), value, nil)
    }
}
