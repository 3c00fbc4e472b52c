import Foundation

/// Wall-clock time in whole seconds since the Unix epoch, as UCAN `exp`/`nbf` use it
/// (ucan 0.9.1 §3.2.4). Injectable so tests can move time without waiting.
public struct StorachaClock: Sendable {
    /// Seconds since the Unix epoch.
    public let secondsSinceEpoch: @Sendable () -> Int64

    /// A clock that reads `secondsSinceEpoch`.
    public init(secondsSinceEpoch: @escaping @Sendable () -> Int64) {
        self.secondsSinceEpoch = secondsSinceEpoch
    }

    /// The system's real-time clock.
    public static let system = StorachaClock { Int64(Date().timeIntervalSince1970) }

    /// The current time in seconds since the Unix epoch.
    public func now() -> Int64 { secondsSinceEpoch() }
}
