/// Length-hiding padding (crypto.md §4).
public enum Padding {
    /// Appends `0x80` then zeros up to `length` (ISO/IEC 7816-4), inside the encryption.
    static func pad(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        precondition(length > bytes.count, "padding target \(length) must exceed \(bytes.count)")
        var out = bytes
        out.reserveCapacity(length)
        out.append(0x80)
        out.append(contentsOf: repeatElement(0, count: length - bytes.count - 1))
        return out
    }

    /// Removes `0x80 00…` padding; throws if the marker is missing.
    static func unpad(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let marker = bytes.lastIndex(where: { $0 != 0 }), bytes[marker] == 0x80 else {
            throw ChatCryptoError(.malformedInput, "content padding has no 0x80 marker")
        }
        return Array(bytes[..<marker])
    }

    /// Padmé (Nikitin et al., PETS 2019, §4): the padded length of an `length`-byte blob, leaking
    /// O(log log L) bits with at most 12% overhead. For attachment blobs.
    public static func padme(_ length: Int) -> Int {
        guard length > 2 else { return length }
        let e = Int.bitWidth - 1 - length.leadingZeroBitCount   // ⌊log2 L⌋
        let s = Int.bitWidth - 1 - e.leadingZeroBitCount + 1    // ⌊log2 E⌋ + 1
        let lastBits = e - s
        let mask = (1 << lastBits) - 1
        return (length + mask) & ~mask
    }
}
