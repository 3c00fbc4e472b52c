/// A medium-term signed prekey `SPK` of one suite, rotated about weekly (X3DH §2.2; crypto.md §8.2).
///
/// Signed as `Sig("spk/v1"‖suite‖id‖SPK‖expires)`. It is also the responder's first ratchet key.
/// The private key leaves this wrapper only through `storageRepresentation`.
public struct SignedPreKey: Sendable {
    /// The suite this prekey serves.
    public let suite: Ciphersuite
    /// Identifier that prekey messages name.
    public let id: UInt32
    /// Expiry, milliseconds since 1970; initiators refuse it afterwards.
    public let expiresAt: UInt64
    let privateKey: DHPrivateKey

    /// Generates a new signed prekey.
    public static func generate(suite: Ciphersuite, id: UInt32, expiresAt: UInt64) -> SignedPreKey {
        SignedPreKey(suite: suite, id: id, expiresAt: expiresAt, privateKey: .generate(curve: suite.curve))
    }

    init(suite: Ciphersuite, id: UInt32, expiresAt: UInt64, privateKey: DHPrivateKey) {
        self.suite = suite
        self.id = id
        self.expiresAt = expiresAt
        self.privateKey = privateKey
    }

    /// The public half, published in the bundle.
    public var publicKey: DHPublicKey { privateKey.publicKey }

    static func signedMessage(suite: Ciphersuite, id: UInt32, publicKey: DHPublicKey, expiresAt: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(raw: Labels.signedPreKey)
        writer.write(suite.rawValue)
        writer.write(id)
        writer.write(raw: publicKey.bytes)
        writer.write(expiresAt)
        return writer.bytes
    }

    /// Serialization for the local key store only.
    public var storageRepresentation: [UInt8] {
        var writer = ByteWriter()
        writer.write(suite.rawValue)
        writer.write(id)
        writer.write(expiresAt)
        writer.write(raw: privateKey.rawRepresentation)
        return writer.bytes
    }

    /// Restores a key saved with `storageRepresentation`.
    public init(storageRepresentation bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "signed prekey")
        suite = try Ciphersuite(byte: try reader.readUInt8())
        id = try reader.readUInt32()
        expiresAt = try reader.readUInt64()
        privateKey = try DHPrivateKey(curve: suite.curve, rawRepresentation: try reader.readBytes(count: DHPrivateKey.rawLength))
        try reader.expectEnd()
    }
}
