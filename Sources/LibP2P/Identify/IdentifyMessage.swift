/// The Identify message (libp2p specs identify/README.md §The Identify Message):
///
/// ```
/// message Identify {
///   optional string protocolVersion = 5;  optional string agentVersion = 6;
///   optional bytes publicKey = 1;          repeated bytes listenAddrs = 2;
///   optional bytes observedAddr = 4;       repeated string protocols = 3;
///   optional bytes signedPeerRecord = 8;
/// }
/// ```
/// Addresses stay in their binary multiaddr form here; `IdentifyService` interprets them.
public struct IdentifyMessage: Hashable, Sendable {
    /// The sender's key protobuf (`PublicKey`).
    public var publicKey: [UInt8]?
    /// The sender's listen addresses, binary multiaddrs.
    public var listenAddrs: [[UInt8]] = []
    /// Every protocol the sender serves.
    public var protocols: [String] = []
    /// The address the sender sees us at, binary multiaddr.
    public var observedAddr: [UInt8]?
    /// E.g. `ipfs/0.1.0`.
    public var protocolVersion: String?
    /// E.g. `kubo/0.22.0/`.
    public var agentVersion: String?
    /// A signed peer record envelope (RFC 0003), kept opaque.
    public var signedPeerRecord: [UInt8]?

    /// The largest single Identify message accepted (go-libp2p: parts of at most 8 KiB, we allow 64 KiB).
    public static let maxMessageLength = 64 * 1024
    /// The most parts merged into one Identify result (go-libp2p merges up to 10).
    public static let maxParts = 10
    /// The most protocols or addresses accepted from one peer.
    public static let maxListEntries = 512

    public init() {}

    /// Parses one encoded message.
    public init(parsing bytes: [UInt8]) throws {
        self.init()
        try merge(parsing: bytes)
    }

    /// Merges another encoded part into this message: repeated fields append, singular ones replace
    /// (protobuf merge semantics, as go-libp2p applies to multi-part identify).
    public mutating func merge(parsing bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes)
        while let field = try reader.next() {
            switch field.number {
            case 1: publicKey = try field.bytes()
            case 2: listenAddrs.append(try field.bytes())
            case 3: protocols.append(try field.string())
            case 4: observedAddr = try field.bytes()
            case 5: protocolVersion = try field.string()
            case 6: agentVersion = try field.string()
            case 8: signedPeerRecord = try field.bytes()
            default: continue  // unknown fields are ignored
            }
        }
        guard listenAddrs.count <= Self.maxListEntries, protocols.count <= Self.maxListEntries else {
            throw LibP2PError(.limitExceeded, "identify lists more than \(Self.maxListEntries) entries")
        }
    }

    /// The encoded message.
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        if let publicKey { writer.writeBytes(field: 1, publicKey) }
        for address in listenAddrs { writer.writeBytes(field: 2, address) }
        for protocolID in protocols { writer.writeString(field: 3, protocolID) }
        if let observedAddr { writer.writeBytes(field: 4, observedAddr) }
        if let protocolVersion { writer.writeString(field: 5, protocolVersion) }
        if let agentVersion { writer.writeString(field: 6, agentVersion) }
        if let signedPeerRecord { writer.writeBytes(field: 8, signedPeerRecord) }
        return writer.bytes
    }
}
