/// A multicodec code: the varint-prefixed identifier of a format, hash function or protocol.
///
/// Implements https://github.com/multiformats/multicodec (table.csv). Any code can be
/// represented; ``name`` knows only the entries this project uses.
public struct Multicodec: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The numeric code from the multicodec table.
    public var rawValue: UInt64

    /// Wraps a numeric code.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Wraps a numeric code.
    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// `identity` = 0x00: The identity multihash: the digest is the data itself.
    public static let identity = Multicodec(0x00)
    /// `cidv1` = 0x01: CIDv1 version marker.
    public static let cidv1 = Multicodec(0x01)
    /// `ip4` = 0x04: Multiaddr IPv4 address (4 bytes).
    public static let ip4 = Multicodec(0x04)
    /// `tcp` = 0x06: Multiaddr TCP port.
    public static let tcp = Multicodec(0x06)
    /// `sha2-256` = 0x12: SHA-256 multihash.
    public static let sha2_256 = Multicodec(0x12)
    /// `sha2-512` = 0x13: SHA-512 multihash.
    public static let sha2_512 = Multicodec(0x13)
    /// `sha3-256` = 0x16: SHA3-256 multihash.
    public static let sha3_256 = Multicodec(0x16)
    /// `ip6` = 0x29: Multiaddr IPv6 address (16 bytes).
    public static let ip6 = Multicodec(0x29)
    /// `dns` = 0x35: Multiaddr DNS name (A or AAAA).
    public static let dns = Multicodec(0x35)
    /// `dns4` = 0x36: Multiaddr DNS name resolved to IPv4.
    public static let dns4 = Multicodec(0x36)
    /// `dns6` = 0x37: Multiaddr DNS name resolved to IPv6.
    public static let dns6 = Multicodec(0x37)
    /// `dnsaddr` = 0x38: Multiaddr DNS name with `_dnsaddr` TXT records.
    public static let dnsaddr = Multicodec(0x38)
    /// `raw` = 0x55: IPLD raw binary block.
    public static let raw = Multicodec(0x55)
    /// `dag-pb` = 0x70: IPLD MerkleDAG protobuf (UnixFS).
    public static let dagPB = Multicodec(0x70)
    /// `dag-cbor` = 0x71: IPLD MerkleDAG CBOR.
    public static let dagCBOR = Multicodec(0x71)
    /// `libp2p-key` = 0x72: libp2p public key (peer IDs as CIDs).
    public static let libp2pKey = Multicodec(0x72)
    /// `git-raw` = 0x78: Raw Git object.
    public static let gitRaw = Multicodec(0x78)
    /// `dag-jose` = 0x85: IPLD MerkleDAG JOSE.
    public static let dagJOSE = Multicodec(0x85)
    /// `secp256k1-pub` = 0xe7: Secp256k1 public key (compressed).
    public static let secp256k1Pub = Multicodec(0xe7)
    /// `ed25519-pub` = 0xed: Ed25519 public key.
    public static let ed25519Pub = Multicodec(0xed)
    /// `udp` = 0x111: Multiaddr UDP port.
    public static let udp = Multicodec(0x111)
    /// `p2p-circuit` = 0x122: Multiaddr circuit relay marker.
    public static let p2pCircuit = Multicodec(0x122)
    /// `dag-json` = 0x129: IPLD MerkleDAG JSON.
    public static let dagJSON = Multicodec(0x129)
    /// `p2p` = 0x1a5: Multiaddr peer ID (alias `ipfs` in text).
    public static let p2p = Multicodec(0x1a5)
    /// `tls` = 0x1c0: Multiaddr TLS marker.
    public static let tls = Multicodec(0x1c0)
    /// `noise` = 0x1c6: Multiaddr Noise marker.
    public static let noise = Multicodec(0x1c6)
    /// `quic` = 0x1cc: Multiaddr QUIC (draft-29) marker.
    public static let quic = Multicodec(0x1cc)
    /// `quic-v1` = 0x1cd: Multiaddr QUIC v1 (RFC 9000) marker.
    public static let quicV1 = Multicodec(0x1cd)
    /// `webtransport` = 0x1d1: Multiaddr WebTransport marker.
    public static let webtransport = Multicodec(0x1d1)
    /// `certhash` = 0x1d2: Multiaddr TLS certificate hash (a multihash).
    public static let certhash = Multicodec(0x1d2)
    /// `ws` = 0x1dd: Multiaddr WebSocket marker.
    public static let ws = Multicodec(0x1dd)
    /// `wss` = 0x1de: Multiaddr secure WebSocket marker.
    public static let wss = Multicodec(0x1de)
    /// `car` = 0x202: Content Addressable aRchive.
    public static let car = Multicodec(0x202)
    /// `rsa-pub` = 0x1205: RSA public key (PKCS #1 DER).
    public static let rsaPub = Multicodec(0x1205)
    /// `blake2b-256` = 0xb220: BLAKE2b-256 multihash.
    public static let blake2b_256 = Multicodec(0xb220)

    /// Every named constant above with its multicodec table name, in table order.
    public static let known: [(codec: Multicodec, name: String)] = [
        (.identity, "identity"),
        (.cidv1, "cidv1"),
        (.ip4, "ip4"),
        (.tcp, "tcp"),
        (.sha2_256, "sha2-256"),
        (.sha2_512, "sha2-512"),
        (.sha3_256, "sha3-256"),
        (.ip6, "ip6"),
        (.dns, "dns"),
        (.dns4, "dns4"),
        (.dns6, "dns6"),
        (.dnsaddr, "dnsaddr"),
        (.raw, "raw"),
        (.dagPB, "dag-pb"),
        (.dagCBOR, "dag-cbor"),
        (.libp2pKey, "libp2p-key"),
        (.gitRaw, "git-raw"),
        (.dagJOSE, "dag-jose"),
        (.secp256k1Pub, "secp256k1-pub"),
        (.ed25519Pub, "ed25519-pub"),
        (.udp, "udp"),
        (.p2pCircuit, "p2p-circuit"),
        (.dagJSON, "dag-json"),
        (.p2p, "p2p"),
        (.tls, "tls"),
        (.noise, "noise"),
        (.quic, "quic"),
        (.quicV1, "quic-v1"),
        (.webtransport, "webtransport"),
        (.certhash, "certhash"),
        (.ws, "ws"),
        (.wss, "wss"),
        (.car, "car"),
        (.rsaPub, "rsa-pub"),
        (.blake2b_256, "blake2b-256"),
    ]

    private static let names: [UInt64: String] = Dictionary(
        uniqueKeysWithValues: known.map { ($0.codec.rawValue, $0.name) }
    )

    /// The multicodec table name, e.g. `"dag-pb"`, or `nil` for codes not in ``known``.
    public var name: String? { Self.names[rawValue] }

    /// The table name, or `0x…` for codes without one.
    public var description: String {
        name ?? "0x" + String(rawValue, radix: 16)
    }
}
