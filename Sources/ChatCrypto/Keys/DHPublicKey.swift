import Crypto

/// A Diffie-Hellman public key on a suite curve: 32 bytes for X25519, a 33-byte compressed
/// SEC 1 point for P-256 (crypto.md §8.5 `dh_pub 32|33`).
///
/// Construction from bytes validates the encoding (and, for P-256, that the point is on the curve).
public struct DHPublicKey: Hashable, Sendable {
    /// The curve the key lives on.
    public let curve: DHCurve
    /// The encoded key.
    public let bytes: [UInt8]

    /// Parses and validates an encoded public key.
    public init(curve: DHCurve, bytes: [UInt8]) throws {
        guard bytes.count == curve.publicKeyLength else {
            throw ChatCryptoError(.invalidKey, "\(curve) public key must be \(curve.publicKeyLength) bytes, got \(bytes.count)")
        }
        if curve == .p256 {
            do {
                _ = try P256.KeyAgreement.PublicKey(compressedRepresentation: bytes)
            } catch {
                throw ChatCryptoError(.invalidKey, "P-256 public key is not a valid compressed point", underlying: error)
            }
        }
        self.curve = curve
        self.bytes = bytes
    }

    init(curve: DHCurve, validatedBytes: [UInt8]) {
        self.curve = curve
        self.bytes = validatedBytes
    }
}
