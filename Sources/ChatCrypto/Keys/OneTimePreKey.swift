/// A one-time prekey `OPK`, used by at most one session and deleted on first use (X3DH §2.2, §3.3).
///
/// The private key leaves this wrapper only through `storageRepresentation`.
public struct OneTimePreKey: Sendable {
    /// The suite this prekey serves.
    public let suite: Ciphersuite
    /// Identifier that prekey messages name; the store deletes the key with this id once used.
    public let id: UInt32
    let privateKey: DHPrivateKey

    /// Generates a new one-time prekey.
    public static func generate(suite: Ciphersuite, id: UInt32) -> OneTimePreKey {
        OneTimePreKey(suite: suite, id: id, privateKey: .generate(curve: suite.curve))
    }

    init(suite: Ciphersuite, id: UInt32, privateKey: DHPrivateKey) {
        self.suite = suite
        self.id = id
        self.privateKey = privateKey
    }

    /// The public half, published in the bundle.
    public var publicKey: DHPublicKey { privateKey.publicKey }

    /// Serialization for the local key store only.
    public var storageRepresentation: [UInt8] {
        var writer = ByteWriter()
        writer.write(suite.rawValue)
        writer.write(id)
        writer.write(raw: privateKey.rawRepresentation)
        return writer.bytes
    }

    /// Restores a key saved with `storageRepresentation`.
    public init(storageRepresentation bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "one-time prekey")
        suite = try Ciphersuite(byte: try reader.readUInt8())
        id = try reader.readUInt32()
        privateKey = try DHPrivateKey(curve: suite.curve, rawRepresentation: try reader.readBytes(count: DHPrivateKey.rawLength))
        try reader.expectEnd()
    }
}
