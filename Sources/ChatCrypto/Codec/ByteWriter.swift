/// Appends big-endian integers and length-prefixed byte strings to a buffer; the writing half of
/// every binary format in this module (bundle, prekey message, envelope, session state).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func write(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func write(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func write(raw: some Sequence<UInt8>) { bytes.append(contentsOf: raw) }

    /// Writes a one-byte length then the bytes. The caller guarantees `count <= 255`.
    mutating func write(short value: [UInt8]) {
        precondition(value.count <= Int(UInt8.max), "short byte string of \(value.count) bytes")
        write(UInt8(value.count))
        write(raw: value)
    }

    /// Writes a two-byte length then the bytes. The caller guarantees `count <= 65535`.
    mutating func write(long value: [UInt8]) {
        precondition(value.count <= Int(UInt16.max), "byte string of \(value.count) bytes")
        write(UInt16(value.count))
        write(raw: value)
    }

    /// Writes a four-byte length then the bytes.
    mutating func write(huge value: [UInt8]) {
        write(UInt32(value.count))
        write(raw: value)
    }
}
