/// Limits and settings of a `MailboxServer`. Every limit is a named default.
public struct MailboxConfiguration: Sendable {
    /// Envelope lifetime when the depositor asks for none: 14 days.
    public static let defaultTTLSeconds: UInt64 = 14 * 24 * 3600
    /// The longest lifetime a depositor may ask for: 30 days.
    public static let defaultMaxTTLSeconds: UInt64 = 30 * 24 * 3600
    /// The most envelopes one queue holds.
    public static let defaultMaxEnvelopesPerQueue: UInt64 = 20_000
    /// The most envelope bytes one queue holds: 64 MiB.
    public static let defaultMaxBytesPerQueue: UInt64 = 64 << 20
    /// The most queues one mailbox holds.
    public static let defaultMaxQueues = 100_000
    /// How far a request timestamp may be from the mailbox clock: 2 minutes.
    public static let defaultRequestWindowSeconds: UInt64 = 120
    /// The most nonces remembered for replay detection.
    public static let defaultMaxReplayCacheEntries = 2_000_000
    /// Deposits per second per connection (sustained) and the burst allowed.
    public static let defaultDepositsPerSecond = 200.0
    public static let defaultDepositBurst = 1_000.0
    /// Requests of any kind per second per connection (sustained) and the burst allowed.
    public static let defaultRequestsPerSecond = 500.0
    public static let defaultRequestBurst = 2_000.0
    /// Live subscriptions per queue.
    public static let defaultMaxSubscribersPerQueue = 8
    /// How often `run()` deletes expired envelopes.
    public static let defaultSweepInterval: Duration = .seconds(60)
    /// How long the deposit writer waits to gather concurrent deposits into one transaction
    /// (only while they arrive concurrently; replies still follow the commit): 1 ms.
    public static let defaultDepositCommitWindow: Duration = .milliseconds(2)
    /// Push wake-up attempts per deposit burst, the first retry delay (doubling), and the
    /// time one HTTP attempt may take.
    public static let defaultPushMaxAttempts = 5
    public static let defaultPushRetryBaseDelay: Duration = .seconds(2)
    public static let defaultPushTimeout: Duration = .seconds(10)

    /// See `defaultTTLSeconds`.
    public var defaultTTLSeconds = Self.defaultTTLSeconds
    /// See `defaultMaxTTLSeconds`.
    public var maxTTLSeconds = Self.defaultMaxTTLSeconds
    /// The largest envelope accepted; at most `MailboxProtocol.maxEnvelopeLength`.
    public var maxEnvelopeLength = MailboxProtocol.maxEnvelopeLength
    /// See `defaultMaxEnvelopesPerQueue`.
    public var maxEnvelopesPerQueue = Self.defaultMaxEnvelopesPerQueue
    /// See `defaultMaxBytesPerQueue`.
    public var maxBytesPerQueue = Self.defaultMaxBytesPerQueue
    /// See `defaultMaxQueues`.
    public var maxQueues = Self.defaultMaxQueues
    /// See `defaultRequestWindowSeconds`.
    public var requestWindowSeconds = Self.defaultRequestWindowSeconds
    /// See `defaultMaxReplayCacheEntries`.
    public var maxReplayCacheEntries = Self.defaultMaxReplayCacheEntries
    /// See `defaultDepositsPerSecond`.
    public var depositsPerSecond = Self.defaultDepositsPerSecond
    /// See `defaultDepositBurst`.
    public var depositBurst = Self.defaultDepositBurst
    /// See `defaultRequestsPerSecond`.
    public var requestsPerSecond = Self.defaultRequestsPerSecond
    /// See `defaultRequestBurst`.
    public var requestBurst = Self.defaultRequestBurst
    /// See `defaultMaxSubscribersPerQueue`.
    public var maxSubscribersPerQueue = Self.defaultMaxSubscribersPerQueue
    /// See `defaultSweepInterval`.
    public var sweepInterval = Self.defaultSweepInterval
    /// See `defaultDepositCommitWindow`.
    public var depositCommitWindow = Self.defaultDepositCommitWindow
    /// See `defaultPushMaxAttempts`.
    public var pushMaxAttempts = Self.defaultPushMaxAttempts
    /// See `defaultPushRetryBaseDelay`.
    public var pushRetryBaseDelay = Self.defaultPushRetryBaseDelay
    /// See `defaultPushTimeout`.
    public var pushTimeout = Self.defaultPushTimeout
    /// Whether push endpoints may point at loopback or private addresses. Off by default:
    /// otherwise any queue owner could make the mailbox POST into its operator's network.
    public var allowsPrivatePushEndpoints = false

    public init() {}
}
