import _CryptoExtras
import Crypto
import Foundation

/// A decoded libp2p `PrivateKey` protobuf of any key type (libp2p specs `peer-ids/peer-ids.md`
/// §Keys), used to check the spec's private-key vectors: decode, re-encode, derive the public key.
///
/// Internal on purpose: the node's own identity is always an `IdentityKeyPair`; foreign key
/// types are only ever verified. `Data` is kept as received so re-encoding is byte-exact.
struct AnyPrivateKey: Sendable {
    private enum Backing: Sendable {
        case ed25519(IdentityKeyPair)
        case rsa(_RSA.Signing.PrivateKey)
        case secp256k1(Secp256k1.Point)
        case ecdsaP256(P256.Signing.PrivateKey)
    }

    private let backing: Backing
    private let data: [UInt8]
    let keyType: KeyType

    /// Decodes a `PrivateKey` protobuf: Ed25519 (32/64/96 bytes), RSA (PKCS#1 DER, 2048–8192
    /// bits), secp256k1 (32-byte scalar) or ECDSA P-256 (SEC 1 / PKCS#8 DER).
    init(protobufBytes: [UInt8]) throws {
        let message = try KeyProtobuf(parsing: protobufBytes)
        keyType = message.keyType
        data = message.data
        switch message.keyType {
        case .ed25519:
            backing = .ed25519(try IdentityKeyPair(ed25519PrivateKeyData: message.data))
        case .rsa:
            let key: _RSA.Signing.PrivateKey
            do {
                key = try _RSA.Signing.PrivateKey(unsafeDERRepresentation: message.data)
            } catch {
                throw LibP2PError(.malformedInput, "RSA private key is not PKCS#1 DER", underlying: error)
            }
            guard key.keySizeInBits >= PublicKey.minimumRSAKeyBits, key.keySizeInBits <= PublicKey.maximumRSAKeyBits else {
                throw LibP2PError(.unsupportedKey, "RSA key of \(key.keySizeInBits) bits is outside \(PublicKey.minimumRSAKeyBits)–\(PublicKey.maximumRSAKeyBits)")
            }
            backing = .rsa(key)
        case .secp256k1:
            backing = .secp256k1(try Secp256k1.publicKey(privateScalar: message.data))
        case .ecdsa:
            do {
                backing = .ecdsaP256(try P256.Signing.PrivateKey(derRepresentation: message.data))
            } catch {
                throw LibP2PError(.unsupportedKey, "ECDSA private key is not P-256 SEC 1 or PKCS#8 DER", underlying: error)
            }
        }
    }

    /// The `PrivateKey` protobuf, with `Data` exactly as decoded.
    var protobufBytes: [UInt8] {
        KeyProtobuf(keyType: keyType, data: data).encode()
    }

    /// The matching public key.
    func publicKey() throws -> PublicKey {
        switch backing {
        case .ed25519(let pair):
            return pair.publicKey
        case .rsa(let key):
            return try PublicKey(keyType: .rsa, data: [UInt8](key.publicKey.derRepresentation))
        case .secp256k1(let point):
            return try PublicKey(keyType: .secp256k1, data: Secp256k1.compress(point))
        case .ecdsaP256(let key):
            return try PublicKey(keyType: .ecdsa, data: [UInt8](key.publicKey.derRepresentation))
        }
    }

    /// Signs with the key type's libp2p scheme, for the deterministic schemes only (Ed25519 and
    /// RSA PKCS#1 v1.5 over SHA-256), so tests can compare signatures byte for byte.
    func signDeterministically(_ message: [UInt8]) throws -> [UInt8] {
        switch backing {
        case .ed25519(let pair):
            return try pair.sign(message)
        case .rsa(let key):
            return [UInt8](try key.signature(for: SHA256.hash(data: message), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .secp256k1, .ecdsaP256:
            throw LibP2PError(.unsupportedKey, "\(keyType) signing is not implemented")
        }
    }
}
