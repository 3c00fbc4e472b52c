import Foundation

/// Wall-clock time for a mailbox and its clients, injectable so tests can move time (TTL
/// expiry, request timestamps) without waiting.
public struct MailboxClock: Sendable {
    /// Milliseconds since the Unix epoch.
    public let millisecondsSinceEpoch: @Sendable () -> UInt64

    /// A clock that reads `now`.
    public init(millisecondsSinceEpoch: @escaping @Sendable () -> UInt64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The system's real-time clock.
    public static let system = MailboxClock {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }

    /// The current time in milliseconds since the Unix epoch.
    public func now() -> UInt64 { millisecondsSinceEpoch() }
}
