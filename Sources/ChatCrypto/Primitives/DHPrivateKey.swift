import Crypto
import Foundation

/// A Diffie-Hellman private key on either suite curve: the one place curve-specific calls live.
///
/// Internal: the public API exposes only purpose-typed wrappers (`IdentityDHKey`,
/// `SignedPreKey`, …) around it.
struct DHPrivateKey: Sendable {
    enum Backing: Sendable {
        case x25519(Curve25519.KeyAgreement.PrivateKey)
        case p256(P256.KeyAgreement.PrivateKey)
    }

    /// Length of a raw private scalar on both curves.
    static let rawLength = 32

    let backing: Backing

    var curve: DHCurve {
        switch backing {
        case .x25519: .x25519
        case .p256: .p256
        }
    }

    init(backing: Backing) { self.backing = backing }

    /// Restores a key from its 32-byte scalar (storage form, and fixed keys in tests).
    init(curve: DHCurve, rawRepresentation: [UInt8]) throws {
        guard rawRepresentation.count == Self.rawLength else {
            throw ChatCryptoError(.invalidKey, "\(curve) private key must be \(Self.rawLength) bytes, got \(rawRepresentation.count)")
        }
        do {
            switch curve {
            case .x25519: backing = .x25519(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: rawRepresentation))
            case .p256: backing = .p256(try P256.KeyAgreement.PrivateKey(rawRepresentation: rawRepresentation))
            }
        } catch {
            throw ChatCryptoError(.invalidKey, "\(curve) private key rejected", underlying: error)
        }
    }

    static func generate(curve: DHCurve) -> DHPrivateKey {
        switch curve {
        case .x25519: DHPrivateKey(backing: .x25519(Curve25519.KeyAgreement.PrivateKey()))
        case .p256: DHPrivateKey(backing: .p256(P256.KeyAgreement.PrivateKey()))
        }
    }

    /// The private scalar; only for storage serialization.
    var rawRepresentation: [UInt8] {
        switch backing {
        case .x25519(let key): [UInt8](key.rawRepresentation)
        case .p256(let key): [UInt8](key.rawRepresentation)
        }
    }

    var publicKey: DHPublicKey {
        switch backing {
        case .x25519(let key): DHPublicKey(curve: .x25519, validatedBytes: [UInt8](key.publicKey.rawRepresentation))
        case .p256(let key): DHPublicKey(curve: .p256, validatedBytes: [UInt8](key.publicKey.compressedRepresentation))
        }
    }

    /// DH(self, peer): the X25519 output or the P-256 x-coordinate, 32 bytes.
    func sharedSecret(with peer: DHPublicKey) throws -> [UInt8] {
        do {
            let secret: SharedSecret
            switch (backing, peer.curve) {
            case (.x25519(let key), .x25519):
                secret = try key.sharedSecretFromKeyAgreement(with: Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer.bytes))
            case (.p256(let key), .p256):
                secret = try key.sharedSecretFromKeyAgreement(with: P256.KeyAgreement.PublicKey(compressedRepresentation: peer.bytes))
            default:
                throw ChatCryptoError(.invalidKey, "DH between \(curve) and \(peer.curve) keys")
            }
            return secret.withUnsafeBytes { [UInt8]($0) }
        } catch let error as ChatCryptoError {
            throw error
        } catch {
            throw ChatCryptoError(.invalidKey, "\(curve) key agreement failed", underlying: error)
        }
    }
}
