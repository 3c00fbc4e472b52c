/// The `KeyType` enum of the libp2p key protobuf (libp2p specs `peer-ids/peer-ids.md`
/// §Keys): `enum KeyType { RSA = 0; Ed25519 = 1; Secp256k1 = 2; ECDSA = 3; }`.
///
/// py-libp2p's non-standard values (`ECC_P256 = 4`, `X25519 = 5`) are not cases: decoding
/// them fails with `LibP2PError.Code.unsupportedKey`.
public enum KeyType: UInt64, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// RSA; public `Data` is a DER SubjectPublicKeyInfo, private `Data` is PKCS#1 DER.
    case rsa = 0
    /// Ed25519; public `Data` is the 32-byte key, private `Data` is seed‖public (64 bytes).
    case ed25519 = 1
    /// secp256k1; public `Data` is a 33-byte compressed point, private `Data` the 32-byte scalar.
    case secp256k1 = 2
    /// ECDSA (P-256 here); public `Data` is a DER SubjectPublicKeyInfo, private `Data` SEC 1 DER.
    case ecdsa = 3

    /// The name the spec uses for this key type.
    public var description: String {
        switch self {
        case .rsa: "RSA"
        case .ed25519: "Ed25519"
        case .secp256k1: "Secp256k1"
        case .ecdsa: "ECDSA"
        }
    }
}
