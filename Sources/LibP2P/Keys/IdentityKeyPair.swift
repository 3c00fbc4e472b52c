import Crypto
import Foundation

/// Our own libp2p identity: an Ed25519 key pair (libp2p specs `peer-ids/peer-ids.md` §Keys,
/// §Ed25519). It signs the Noise handshake payload and anything else the node signs as itself.
///
/// The private key bytes never leave this wrapper except through `protobufBytes`, which exists
/// so the identity can be stored. Only Ed25519 identities are generated: other key types are
/// only ever verified (see `PublicKey`).
public struct IdentityKeyPair: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Length of an Ed25519 seed (the private scalar's source, RFC 8032 §5.1.5).
    static let seedLength = 32
    /// Length of an Ed25519 public key.
    static let publicKeyLength = 32

    private let privateKey: Curve25519.Signing.PrivateKey

    private init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// Generates a fresh random Ed25519 identity.
    public static func generate() -> IdentityKeyPair {
        IdentityKeyPair(privateKey: Curve25519.Signing.PrivateKey())
    }

    /// Decodes a serialized libp2p `PrivateKey` protobuf holding an Ed25519 key (spec §Keys).
    ///
    /// `Data` may be the standard 64 bytes (seed‖public key), a bare 32-byte seed, or the
    /// legacy 96-byte form (seed‖public‖public) that go-libp2p still reads. The embedded public
    /// key must match the one derived from the seed. Other key types throw `.unsupportedKey`;
    /// bad encodings throw `.malformedInput`.
    public init(protobufBytes: [UInt8]) throws {
        let message = try KeyProtobuf(parsing: protobufBytes)
        guard message.keyType == .ed25519 else {
            throw LibP2PError(.unsupportedKey, "identity keys must be Ed25519, got \(message.keyType)")
        }
        try self.init(ed25519PrivateKeyData: message.data)
    }

    /// Decodes the `Data` of an Ed25519 `PrivateKey` protobuf (32, 64 or 96 bytes).
    init(ed25519PrivateKeyData data: [UInt8]) throws {
        let seed = Array(data.prefix(Self.seedLength))
        let embeddedPublic: ArraySlice<UInt8>?
        switch data.count {
        case Self.seedLength:
            embeddedPublic = nil
        case Self.seedLength + Self.publicKeyLength:
            embeddedPublic = data[Self.seedLength...]
        case Self.seedLength + 2 * Self.publicKeyLength:
            // Legacy form: go-libp2p `UnmarshalEd25519PrivateKey` requires the two copies to agree.
            let first = data[Self.seedLength..<Self.seedLength + Self.publicKeyLength]
            let second = data[(Self.seedLength + Self.publicKeyLength)...]
            guard first.elementsEqual(second) else {
                throw LibP2PError(.malformedInput, "Ed25519 private key: legacy 96-byte form has mismatched public keys")
            }
            embeddedPublic = first
        default:
            throw LibP2PError(.malformedInput, "Ed25519 private key must be 32, 64 or 96 bytes, got \(data.count)")
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw LibP2PError(.malformedInput, "invalid Ed25519 seed", underlying: error)
        }
        if let embeddedPublic, !embeddedPublic.elementsEqual(key.publicKey.rawRepresentation) {
            throw LibP2PError(.malformedInput, "Ed25519 private key: public half does not match the seed")
        }
        self.init(privateKey: key)
    }

    /// The serialized libp2p `PrivateKey` protobuf, `Data` = seed‖public key (64 bytes), for
    /// storing the identity. Treat the result as secret.
    public var protobufBytes: [UInt8] {
        let data = [UInt8](privateKey.rawRepresentation) + [UInt8](privateKey.publicKey.rawRepresentation)
        return KeyProtobuf(keyType: .ed25519, data: data).encode()
    }

    /// The public half, as other peers see it.
    public var publicKey: PublicKey {
        PublicKey(ed25519: privateKey.publicKey)
    }

    /// This identity's peer ID (`12D3KooW…`; spec §Peer Ids).
    public var peerID: PeerID {
        PeerID(publicKey: publicKey)
    }

    /// Signs `message` with Ed25519 (RFC 8032; deterministic), as libp2p does for Ed25519
    /// identities (spec §Ed25519).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            return [UInt8](try privateKey.signature(for: message))
        } catch {
            throw LibP2PError(.unsupportedKey, "Ed25519 signing failed", underlying: error)
        }
    }

    /// Describes the identity by its public key only; the private key is never printed.
    public var description: String {
        "IdentityKeyPair(\(peerID))"
    }

    /// Same as `description`: the private key is never printed.
    public var debugDescription: String { description }
}
