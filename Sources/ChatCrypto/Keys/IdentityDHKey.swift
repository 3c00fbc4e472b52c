/// The long-term Diffie-Hellman identity key `IK_dh` of one ciphersuite (crypto.md §8.2).
///
/// swift-crypto has no Ed25519→X25519 map, so the libp2p Ed25519 identity signs this key:
/// `Sig("idbind/v1"‖suite‖IK_dh‖created)`. It is also the key prekey messages are HPKE-sealed to.
/// The private key leaves this wrapper only through `storageRepresentation`.
public struct IdentityDHKey: Sendable {
    /// The suite this key serves; the binding signature covers it.
    public let suite: Ciphersuite
    /// Creation time, milliseconds since 1970 (covered by the binding signature).
    public let createdAt: UInt64
    let privateKey: DHPrivateKey

    /// Generates a new identity DH key for `suite`.
    public static func generate(suite: Ciphersuite, createdAt: UInt64) -> IdentityDHKey {
        IdentityDHKey(suite: suite, createdAt: createdAt, privateKey: .generate(curve: suite.curve))
    }

    init(suite: Ciphersuite, createdAt: UInt64, privateKey: DHPrivateKey) {
        self.suite = suite
        self.createdAt = createdAt
        self.privateKey = privateKey
    }

    /// The public half, published in the bundle.
    public var publicKey: DHPublicKey { privateKey.publicKey }

    /// The bytes the Ed25519 identity signs to bind this key to it.
    static func bindingMessage(suite: Ciphersuite, publicKey: DHPublicKey, createdAt: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(raw: Labels.identityBinding)
        writer.write(suite.rawValue)
        writer.write(raw: publicKey.bytes)
        writer.write(createdAt)
        return writer.bytes
    }

    /// Serialization for the local key store only: suite, created, private scalar.
    public var storageRepresentation: [UInt8] {
        var writer = ByteWriter()
        writer.write(suite.rawValue)
        writer.write(createdAt)
        writer.write(raw: privateKey.rawRepresentation)
        return writer.bytes
    }

    /// Restores a key saved with `storageRepresentation`.
    public init(storageRepresentation bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "identity DH key")
        suite = try Ciphersuite(byte: try reader.readUInt8())
        createdAt = try reader.readUInt64()
        privateKey = try DHPrivateKey(curve: suite.curve, rawRepresentation: try reader.readBytes(count: DHPrivateKey.rawLength))
        try reader.expectEnd()
    }
}
