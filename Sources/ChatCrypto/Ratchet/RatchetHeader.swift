/// The Double Ratchet message header `HEADER(dh, pn, n)` (Double Ratchet §3.1), encrypted under a
/// header key (§4): `dh_pub (32|33) ‖ PN u32 ‖ N u32` (crypto.md §8.5).
struct RatchetHeader: Hashable, Sendable {
    /// The sender's current ratchet public key.
    let ratchetKey: DHPublicKey
    /// Number of messages in the sender's previous sending chain.
    let previousChainLength: UInt32
    /// Number of this message in the current sending chain.
    let messageNumber: UInt32

    static func encodedLength(curve: DHCurve) -> Int { curve.publicKeyLength + 8 }

    /// Length of the encrypted header on the wire (plaintext + GCM tag).
    static func sealedLength(curve: DHCurve) -> Int { encodedLength(curve: curve) + AEAD.tagLength }

    var encoded: [UInt8] {
        var writer = ByteWriter(capacity: ratchetKey.bytes.count + 8)
        writer.write(raw: ratchetKey.bytes)
        writer.write(previousChainLength)
        writer.write(messageNumber)
        return writer.bytes
    }

    init(ratchetKey: DHPublicKey, previousChainLength: UInt32, messageNumber: UInt32) {
        self.ratchetKey = ratchetKey
        self.previousChainLength = previousChainLength
        self.messageNumber = messageNumber
    }

    init(parsing bytes: [UInt8], curve: DHCurve) throws {
        var reader = ByteReader(bytes, context: "ratchet header")
        ratchetKey = try DHPublicKey(curve: curve, bytes: try reader.readBytes(count: curve.publicKeyLength))
        previousChainLength = try reader.readUInt32()
        messageNumber = try reader.readUInt32()
        try reader.expectEnd()
    }
}

/// A ratchet message on the wire (crypto.md §8.5):
/// `hdr_nonce(12) ‖ Enc_HK(header)+16 ‖ body_nonce(12) ‖ Enc_MK(content)+16`.
struct RatchetMessage: Sendable {
    let headerNonce: [UInt8]
    let sealedHeader: [UInt8]
    let bodyNonce: [UInt8]
    let sealedBody: ArraySlice<UInt8>

    /// Bytes a ratchet message adds around its content.
    static func overhead(curve: DHCurve) -> Int {
        AEAD.nonceLength + RatchetHeader.sealedLength(curve: curve) + AEAD.nonceLength + AEAD.tagLength
    }

    init(parsing bytes: [UInt8], curve: DHCurve) throws {
        guard bytes.count >= Self.overhead(curve: curve) else {
            throw ChatCryptoError(.truncated, "ratchet message of \(bytes.count) bytes is shorter than its \(Self.overhead(curve: curve))-byte overhead")
        }
        var offset = 0
        func take(_ count: Int) -> [UInt8] {
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }
        headerNonce = take(AEAD.nonceLength)
        sealedHeader = take(RatchetHeader.sealedLength(curve: curve))
        bodyNonce = take(AEAD.nonceLength)
        sealedBody = bytes[offset...]
    }
}
