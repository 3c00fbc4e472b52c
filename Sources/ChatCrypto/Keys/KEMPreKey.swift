import Crypto

/// A signed ML-KEM-768 last-resort prekey `PQSPK` for suite 0x03 (PQXDH §2.2; crypto.md §8.2).
///
/// Signed as `Sig("pqspk/v1"‖suite‖id‖PQSPK‖expires)`. The private key leaves this wrapper only
/// through `storageRepresentation` (the FIPS 203 seed `d‖z`).
public struct KEMPreKey: Sendable {
    /// Length of an ML-KEM-768 public key.
    public static let publicKeyLength = 1184
    /// Length of an ML-KEM-768 ciphertext.
    public static let ciphertextLength = 1088
    static let seedLength = 64

    /// Identifier that prekey messages name.
    public let id: UInt32
    /// Expiry, milliseconds since 1970.
    public let expiresAt: UInt64
    let privateKey: MLKEM768.PrivateKey

    /// Generates a new KEM prekey.
    public static func generate(id: UInt32, expiresAt: UInt64) throws -> KEMPreKey {
        do {
            return KEMPreKey(id: id, expiresAt: expiresAt, privateKey: try MLKEM768.PrivateKey.generate())
        } catch {
            throw ChatCryptoError(.cryptoFailure, "ML-KEM-768 key generation failed", underlying: error)
        }
    }

    init(id: UInt32, expiresAt: UInt64, privateKey: MLKEM768.PrivateKey) {
        self.id = id
        self.expiresAt = expiresAt
        self.privateKey = privateKey
    }

    /// The encoded public key, published in the bundle.
    public var publicKeyBytes: [UInt8] { [UInt8](privateKey.publicKey.rawRepresentation) }

    static func signedMessage(id: UInt32, publicKey: [UInt8], expiresAt: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(raw: Labels.kemPreKey)
        writer.write(Ciphersuite.x25519MLKEM768.rawValue)
        writer.write(id)
        writer.write(raw: publicKey)
        writer.write(expiresAt)
        return writer.bytes
    }

    func decapsulate(_ ciphertext: [UInt8]) throws -> [UInt8] {
        do {
            return try privateKey.decapsulate(ciphertext).withUnsafeBytes { [UInt8]($0) }
        } catch {
            throw ChatCryptoError(.decryptionFailed, "ML-KEM-768 decapsulation failed", underlying: error)
        }
    }

    /// Serialization for the local key store only.
    public var storageRepresentation: [UInt8] {
        var writer = ByteWriter()
        writer.write(id)
        writer.write(expiresAt)
        writer.write(raw: privateKey.seedRepresentation)
        return writer.bytes
    }

    /// Restores a key saved with `storageRepresentation`.
    public init(storageRepresentation bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "KEM prekey")
        id = try reader.readUInt32()
        expiresAt = try reader.readUInt64()
        let seed = try reader.readBytes(count: Self.seedLength)
        try reader.expectEnd()
        do {
            privateKey = try MLKEM768.PrivateKey(seedRepresentation: seed, publicKey: nil)
        } catch {
            throw ChatCryptoError(.invalidKey, "ML-KEM-768 seed rejected", underlying: error)
        }
    }
}
