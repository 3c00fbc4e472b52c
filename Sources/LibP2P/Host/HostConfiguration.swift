/// Settings and limits of a `Host`. Every limit is a named constant with a default.
public struct HostConfiguration: Sendable {
    /// The most connections open at once; further inbound connections are closed at accept.
    public static let defaultMaxConnections = 512
    /// The most inbound connections still in their security/muxer handshake at once.
    public static let defaultMaxPendingHandshakes = 64
    /// How long the upgrade of a raw connection (multistream, Noise, muxer) may take
    /// (go-multistream uses 10 s for negotiation).
    public static let defaultHandshakeTimeout: Duration = .seconds(10)
    /// How long protocol negotiation on a new stream may take.
    public static let defaultStreamNegotiationTimeout: Duration = .seconds(10)
    /// The largest Identify response accepted (all parts together).
    public static let maxIdentifyResponseBytes = 10 * IdentifyMessage.maxMessageLength
    /// The Identify protocol version we announce (go-libp2p and Kubo send `ipfs/0.1.0`).
    public static let protocolVersion = "ipfs/0.1.0"
    /// The muxers we offer, in order of preference.
    public static let defaultMuxers = [Connection.yamuxProtocolID]

    /// Our identity.
    public var identity: IdentityKeyPair
    /// The agent version sent in Identify.
    public var agentVersion: String
    /// See `defaultMaxConnections`.
    public var maxConnections = Self.defaultMaxConnections
    /// See `defaultMaxPendingHandshakes`.
    public var maxPendingHandshakes = Self.defaultMaxPendingHandshakes
    /// See `defaultHandshakeTimeout`.
    public var handshakeTimeout = Self.defaultHandshakeTimeout
    /// See `defaultStreamNegotiationTimeout`.
    public var streamNegotiationTimeout = Self.defaultStreamNegotiationTimeout
    /// Yamux settings for every connection.
    public var yamux = YamuxConfiguration()

    public init(identity: IdentityKeyPair, agentVersion: String = "p2pchat/0.1.0") {
        self.identity = identity
        self.agentVersion = agentVersion
    }
}
