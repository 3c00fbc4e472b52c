/// Limits and timers of a ``YamuxSession``.
///
/// Defaults follow go-yamux v4 as go-libp2p configures it (`p2p/muxer/yamux/transport.go`,
/// yamux `const.go`); libp2p `yamux/README.md`.
public struct YamuxConfiguration: Sendable {
    /// The window every stream starts with (spec.md "Flow Control": 256 KiB).
    public static let initialStreamWindow: UInt32 = 256 * 1024
    /// The largest receive window auto-tuning grows a stream to (go-libp2p: 16 MiB).
    public static let maxStreamWindow: UInt32 = 16 * 1024 * 1024
    /// The largest Data payload we send: 65507 bytes, so a Yamux frame plus its 12-byte header
    /// fits one Noise transport message of at most 65519 plaintext bytes.
    public static let maxFramePayload = 65_507
    /// Inbound streams neither accepted nor refused yet (go-yamux `AcceptBacklog`); one more is reset.
    public static let defaultMaxPendingInboundStreams = 256
    /// The most Data frames one stream write hands to the connection at once (16 × 64 KiB).
    public static let maxFramesPerWrite = 16
    /// Open streams per session (go-libp2p's resource manager default order of magnitude).
    public static let defaultMaxConcurrentStreams = 1024
    /// Control frames (ping replies, refusals) queued while the connection is not writable; more
    /// means the peer floods us without reading, and the session ends.
    public static let maxQueuedControlFrames = 1024

    /// Open streams allowed at once, both directions; beyond it inbound SYNs are reset and
    /// `openStream()` throws `limitExceeded`.
    public var maxConcurrentStreams: Int = Self.defaultMaxConcurrentStreams
    /// Inbound streams waiting for `acceptStream()`; the next one is reset.
    public var maxPendingInboundStreams: Int = Self.defaultMaxPendingInboundStreams
    /// Interval of our own keepalive pings, or `nil` for none (go-yamux: 30 s).
    public var keepAliveInterval: Duration? = .seconds(30)
    /// How long a keepalive ping may stay unanswered before the session is closed (go: 10 s).
    public var keepAliveTimeout: Duration = .seconds(10)
    /// Whether `run()` sends one ping at start to learn the RTT for window auto-tuning (go does).
    public var measuresRTTAtStart: Bool = true

    /// Creates the default configuration.
    public init() {}
}
