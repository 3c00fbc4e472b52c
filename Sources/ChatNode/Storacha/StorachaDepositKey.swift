import Crypto
import Foundation
import LibP2P
import Storacha

/// The keys that talk to the Storacha service on our behalf, none of which is the identity key
/// behind our PeerID (the service sees ciphertext and random ids, never who deposits):
///
/// - the **deposit key**: a random Ed25519 key the recipient makes per contact grant; its
///   delegation of `space/blob/add` is for this key, and the recipient sends the key's seed
///   with it inside the encrypted session. The contact signs its deposits (the `space/blob/add`
///   and `ucan/conclude` invocations) with it. Stored as ``version`` ‖ ucanto signer archive
///   bytes (`80 26` ‖ seed ‖ `ed 01` ‖ public key); other versions are refused.
/// - the **agent key**: what signs our own drains and re-delegations and what a space is
///   delegated to (`p2pchat storacha space list` shows its did:key). It is derived one-way from
///   the identity (HKDF-SHA256), so the service cannot link it to the PeerID either.
enum StorachaDepositKey {
    /// The version byte that starts the stored form.
    static let version: UInt8 = 1
    /// HKDF `info` of the agent key derivation.
    static let agentKeyInfo = "p2pchat/storacha/agent-key/v1"

    /// A fresh random deposit key.
    static func generate() throws -> Signer {
        var generator = SystemRandomNumberGenerator()
        return try Signer(ed25519Seed: (0..<Signer.seedLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The stored form of `key` (secret).
    static func stored(_ key: Signer) -> Data {
        Data([version] + key.archiveBytes)
    }

    /// Reads the stored form; a clear `.malformedInput` for rows without a key or of another version.
    static func signer(stored data: Data?) throws -> Signer {
        guard let data, let first = data.first else {
            throw ChatNodeError(.malformedInput, "no deposit key stored (granted before deposit keys); waiting for the contact to grant again")
        }
        guard first == version else {
            throw ChatNodeError(.malformedInput, "stored deposit key has format version \(first), expected \(version)")
        }
        do {
            return try Signer(archiveBytes: Array(data.dropFirst()))
        } catch {
            throw ChatNodeError(.malformedInput, "stored deposit key does not parse", underlying: error)
        }
    }

    /// The Storacha agent key of `identity` (see the type's documentation).
    static func agent(of identity: IdentityKeyPair) throws -> Signer {
        guard identity.publicKey.keyType == .ed25519 else {
            throw ChatNodeError(.malformedInput, "this identity is not Ed25519 (Storacha needs an Ed25519 identity)")
        }
        let seed = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: identity.protobufBytes), info: Data(agentKeyInfo.utf8), outputByteCount: Signer.seedLength)
        return try seed.withUnsafeBytes { try Signer(ed25519Seed: Array($0)) }
    }
}
