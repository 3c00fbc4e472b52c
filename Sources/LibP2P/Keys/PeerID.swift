import Multiformats

/// A libp2p peer ID: the multihash of a peer's serialized `PublicKey` protobuf (libp2p specs
/// `peer-ids/peer-ids.md` §Peer Ids).
///
/// Keys whose protobuf is at most 42 bytes (Ed25519, secp256k1) use the identity multihash, so
/// the key can be read back out of the ID (`12D3KooW…`, `16Uiu2…`); longer keys (RSA, ECDSA)
/// use sha2-256 (`Qm…`). Two text forms exist, and `init(_:)` accepts both: bare base58btc
/// (`description`) and a CIDv1 with the `libp2p-key` codec in any multibase (`cidString`).
public struct PeerID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Longest serialized key that is inlined with the identity multihash (go-libp2p
    /// `core/peer/peer.go` `maxInlineKeyLength`; spec §Peer Ids).
    public static let maximumInlineKeyLength = 42
    /// Longest peer ID text accepted by `init(_:)`; real ones are under 100 characters.
    public static let maximumTextLength = 512

    /// The multihash: identity of the key protobuf, or its sha2-256.
    public let multihash: Multihash

    /// The peer ID of `publicKey` (spec §Peer Ids): identity multihash of the protobuf when it is
    /// at most 42 bytes, otherwise its sha2-256.
    public init(publicKey: PublicKey) {
        let encoded = publicKey.protobufBytes
        if encoded.count <= Self.maximumInlineKeyLength {
            multihash = .identity(encoded)
        } else {
            multihash = .sha256(encoded)
        }
    }

    /// Wraps a multihash as a peer ID. Only identity multihashes of at most 42 bytes and
    /// sha2-256 multihashes can be peer IDs; anything else throws `.malformedInput`.
    public init(multihash: Multihash) throws {
        switch multihash.code {
        case .identity:
            guard multihash.digest.count <= Self.maximumInlineKeyLength else {
                throw LibP2PError(.malformedInput, "identity peer ID of \(multihash.digest.count) bytes exceeds \(Self.maximumInlineKeyLength)")
            }
        case .sha2_256:
            break
        default:
            throw LibP2PError(.malformedInput, "peer ID multihash uses \(multihash.code), not identity or sha2-256")
        }
        self.multihash = multihash
    }

    /// Parses a binary peer ID (the multihash bytes, as in a `/p2p/` multiaddr component or the
    /// Identify message).
    public init(bytes: some Collection<UInt8>) throws {
        let multihash: Multihash
        do {
            multihash = try Multihash(bytes: bytes)
        } catch {
            throw LibP2PError(.malformedInput, "peer ID is not a multihash", underlying: error)
        }
        try self.init(multihash: multihash)
    }

    /// Parses a peer ID's text form (spec §String representation): base58btc of the multihash
    /// when it starts with `1` or `Qm`, otherwise a multibase CIDv1 whose codec must be
    /// `libp2p-key` (0x72).
    public init(_ text: String) throws {
        guard !text.isEmpty, text.utf8.count <= Self.maximumTextLength else {
            throw LibP2PError(.malformedInput, "peer ID text must be 1–\(Self.maximumTextLength) characters")
        }
        if text.hasPrefix("1") || text.hasPrefix("Qm") {
            let bytes: [UInt8]
            do {
                bytes = try Base58.decode(text)
            } catch {
                throw LibP2PError(.malformedInput, "peer ID is not valid base58btc", underlying: error)
            }
            try self.init(bytes: bytes)
            return
        }
        let cid: CID
        do {
            cid = try CID(parsing: text)
        } catch {
            throw LibP2PError(.malformedInput, "peer ID is neither base58btc nor a CID", underlying: error)
        }
        guard cid.version == .v1, cid.codec == .libp2pKey else {
            throw LibP2PError(.malformedInput, "CID codec \(cid.codec) is not libp2p-key")
        }
        try self.init(multihash: cid.multihash)
    }

    /// The binary peer ID: the multihash bytes.
    public var bytes: [UInt8] { multihash.bytes }

    /// The peer ID as a CIDv1 with the `libp2p-key` codec (spec §String representation).
    public var cid: CID { .v1(codec: .libp2pKey, multihash: multihash) }

    /// The CIDv1 text form in base32 (`bafz…`), the spec's recommended new encoding.
    public var cidString: String { cid.string(in: .base32) }

    /// The legacy text form, base58btc of the multihash (`12D3KooW…`, `Qm…`); what go-libp2p
    /// and Kubo print.
    public var description: String { Base58.encode(bytes) }

    /// The public key inlined in an identity-multihash peer ID, or `nil` for sha2-256 IDs (the
    /// key then has to come from the peer, e.g. in the Noise handshake) or undecodable keys.
    public var embeddedPublicKey: PublicKey? {
        guard multihash.code == .identity else { return nil }
        return try? PublicKey(protobufBytes: multihash.digest)
    }

    /// Whether `key` is this peer's key: its peer ID equals this one (spec §Peer Ids).
    public func matches(_ key: PublicKey) -> Bool {
        PeerID(publicKey: key) == self
    }

    /// Orders peer IDs by their binary form, lexicographically.
    public static func < (lhs: PeerID, rhs: PeerID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
