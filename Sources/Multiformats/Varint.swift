/// Unsigned LEB128 varints as used by every multiformat.
///
/// Implements https://github.com/multiformats/unsigned-varint: 7 bits per byte, least
/// significant group first, high bit set on every byte but the last. Decoding requires the
/// minimal encoding and at most ``maxLength`` bytes (63 bits of value).
public enum Varint {
    /// The longest varint the spec allows: 9 bytes, carrying 63 bits.
    public static let maxLength = 9

    /// The largest value that fits in ``maxLength`` bytes (2^63 − 1).
    public static let maxValue: UInt64 = (1 << 63) - 1

    /// Encodes `value` as an unsigned varint (unsigned-varint spec).
    ///
    /// Values above ``maxValue`` produce a 10-byte encoding that ``decode(_:)`` refuses.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encodedLength(of: value))
        encode(value, into: &bytes)
        return bytes
    }

    /// Appends the unsigned-varint encoding of `value` to `bytes` (unsigned-varint spec).
    public static func encode(_ value: UInt64, into bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// The number of bytes ``encode(_:)`` produces for `value`.
    public static func encodedLength(of value: UInt64) -> Int {
        var length = 1
        var v = value >> 7
        while v != 0 {
            length += 1
            v >>= 7
        }
        return length
    }

    /// Decodes one unsigned varint from the start of `bytes` (unsigned-varint spec).
    ///
    /// - Returns: the value and the number of bytes it occupied.
    /// - Throws: ``MultiformatsError`` `.truncated` if the input ends mid-varint,
    ///   `.nonMinimalVarint` if a shorter encoding exists, `.varintTooLong` past 9 bytes.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> (value: UInt64, length: Int) {
        var value: UInt64 = 0
        var length = 0
        for byte in bytes {
            guard length < maxLength else {
                throw MultiformatsError(.varintTooLong, "varint longer than \(maxLength) bytes")
            }
            value |= UInt64(byte & 0x7f) << (7 * UInt64(length))
            length += 1
            if byte & 0x80 == 0 {
                if byte == 0 && length > 1 {
                    throw MultiformatsError(.nonMinimalVarint, "varint has a redundant trailing zero byte")
                }
                return (value, length)
            }
        }
        throw MultiformatsError(.truncated, "input ends inside a varint")
    }
}
