import _CryptoExtras
import Crypto
import Foundation

/// A peer's public identity key, as carried in the libp2p key protobuf (libp2p specs
/// `peer-ids/peer-ids.md` §Keys) in the Noise handshake payload, Identify and pubsub messages.
///
/// Supports the four libp2p key types for verification:
/// - Ed25519: 32-byte key, Ed25519 signatures.
/// - RSA: DER SubjectPublicKeyInfo, RSASSA-PKCS1-v1_5 over SHA-256, 2048–8192-bit moduli
///   (go-libp2p `core/crypto/rsa_common.go`; Kubo identities are RSA-2048).
/// - Secp256k1: 33-byte compressed point, DER ECDSA over SHA-256.
/// - ECDSA: DER SubjectPublicKeyInfo on P-256, P-384 or P-521, DER ECDSA over SHA-256
///   (go-libp2p `core/crypto/ecdsa.go` hashes with SHA-256 whatever the curve).
///
/// Equality and hashing compare the key type and the `Data` bytes.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// Smallest RSA modulus accepted, in bits (go-libp2p `MinRsaKeyBits`).
    public static let minimumRSAKeyBits = 2048
    /// Largest RSA modulus accepted, in bits (go-libp2p `maxRsaKeyBits`).
    public static let maximumRSAKeyBits = 8192
    /// Largest accepted key `Data` field, in bytes.
    public static let maximumDataSize = KeyProtobuf.maximumDataSize

    private enum Backing: Sendable {
        case ed25519(Curve25519.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
        case secp256k1(Secp256k1.Point)
        case ecdsaP256(P256.Signing.PublicKey)
        case ecdsaP384(P384.Signing.PublicKey)
        case ecdsaP521(P521.Signing.PublicKey)
    }

    private let backing: Backing
    /// The key's type.
    public let keyType: KeyType
    /// The protobuf `Data` field: the key in the type's encoding (see `KeyType`).
    public let data: [UInt8]

    /// Decodes a serialized libp2p `PublicKey` protobuf (spec §Keys).
    ///
    /// Throws `LibP2PError` `.malformedInput` for bytes that do not parse or a key that is not
    /// valid for its type, and `.unsupportedKey` for unknown key types, RSA moduli outside
    /// 2048–8192 bits and ECDSA curves other than P-256/384/521.
    public init(protobufBytes: [UInt8]) throws {
        let message = try KeyProtobuf(parsing: protobufBytes)
        try self.init(keyType: message.keyType, data: message.data)
    }

    /// Builds a key from its type and `Data` bytes, validating them as `init(protobufBytes:)` does.
    public init(keyType: KeyType, data: [UInt8]) throws {
        guard data.count <= Self.maximumDataSize else {
            throw LibP2PError(.malformedInput, "\(keyType) public key of \(data.count) bytes exceeds \(Self.maximumDataSize)")
        }
        self.keyType = keyType
        self.data = data
        switch keyType {
        case .ed25519:
            guard data.count == 32 else {
                throw LibP2PError(.malformedInput, "Ed25519 public key must be 32 bytes, got \(data.count)")
            }
            do {
                backing = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: data))
            } catch {
                throw LibP2PError(.malformedInput, "invalid Ed25519 public key", underlying: error)
            }
        case .rsa:
            let key: _RSA.Signing.PublicKey
            do {
                // The "unsafe" initializer admits 1024-bit keys so that we can report the size.
                // BoringSSL refuses moduli over 8192 bits here already (malformedInput).
                key = try _RSA.Signing.PublicKey(unsafeDERRepresentation: data)
            } catch {
                throw LibP2PError(.malformedInput, "RSA public key is not a DER SubjectPublicKeyInfo", underlying: error)
            }
            guard key.keySizeInBits >= Self.minimumRSAKeyBits, key.keySizeInBits <= Self.maximumRSAKeyBits else {
                throw LibP2PError(.unsupportedKey, "RSA key of \(key.keySizeInBits) bits is outside \(Self.minimumRSAKeyBits)–\(Self.maximumRSAKeyBits)")
            }
            backing = .rsa(key)
        case .secp256k1:
            backing = .secp256k1(try Secp256k1.decompress(data))
        case .ecdsa:
            if let key = try? P256.Signing.PublicKey(derRepresentation: data) {
                backing = .ecdsaP256(key)
            } else if let key = try? P384.Signing.PublicKey(derRepresentation: data) {
                backing = .ecdsaP384(key)
            } else if let key = try? P521.Signing.PublicKey(derRepresentation: data) {
                backing = .ecdsaP521(key)
            } else {
                throw LibP2PError(.unsupportedKey, "ECDSA public key is not a DER SubjectPublicKeyInfo on P-256, P-384 or P-521")
            }
        }
    }

    /// Wraps an Ed25519 public key.
    public init(ed25519 key: Curve25519.Signing.PublicKey) {
        self.keyType = .ed25519
        self.data = [UInt8](key.rawRepresentation)
        self.backing = .ed25519(key)
    }

    /// The serialized libp2p `PublicKey` protobuf (deterministic encoding, spec §Keys); this is
    /// what a peer ID hashes and what goes in Noise's `identity_key`.
    public var protobufBytes: [UInt8] {
        KeyProtobuf(keyType: keyType, data: data).encode()
    }

    /// Whether `signature` is a valid signature of `message` by this key, using the signature
    /// scheme libp2p defines for the key type (spec §Keys; see the type's documentation).
    ///
    /// Returns `false`, never throws, for malformed signatures: a bad signature from a peer is
    /// an ordinary negative answer.
    public func verify(signature: [UInt8], for message: [UInt8]) -> Bool {
        switch backing {
        case .ed25519(let key):
            return key.isValidSignature(signature, for: message)
        case .rsa(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature),
                for: SHA256.hash(data: message),
                padding: .insecurePKCS1v1_5
            )
        case .secp256k1(let point):
            return Secp256k1.isValidSignature(
                der: signature, digest: Array(SHA256.hash(data: message)), publicKey: point
            )
        case .ecdsaP256(let key):
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA256.hash(data: message))
        case .ecdsaP384(let key):
            guard let sig = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA256.hash(data: message))
        case .ecdsaP521(let key):
            guard let sig = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: SHA256.hash(data: message))
        }
    }

    /// For RSA keys, the modulus size in bits; `nil` for other key types.
    public var rsaKeySizeInBits: Int? {
        if case .rsa(let key) = backing { return key.keySizeInBits }
        return nil
    }

    /// A short description: the key type and `Data` length.
    public var description: String {
        "\(keyType) public key (\(data.count) bytes)"
    }

    /// Keys are equal when their type and `Data` bytes are.
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.keyType == rhs.keyType && lhs.data == rhs.data
    }

    /// Hashes the key type and `Data` bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(keyType)
        hasher.combine(data)
    }
}
