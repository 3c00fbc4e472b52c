/// When to try a delivery again: exponential backoff with full jitter, capped, until the
/// message's TTL (ARCHITECTURE.md Delivery §5).
///
/// A value type with no clock of its own: callers pass `now` and a random source, so tests
/// are deterministic.
public struct RetryPolicy: Sendable, Hashable {
    /// The delay before the first retry.
    public var initialDelay: Duration
    /// The longest delay between two attempts.
    public var maximumDelay: Duration
    /// Growth per attempt.
    public var multiplier: Double
    /// The fraction of each delay that is randomized (0 = none, 1 = full jitter).
    public var jitter: Double

    /// Defaults: 2 s, doubling, at most 5 minutes, ±50 % jitter.
    public static let `default` = RetryPolicy(initialDelay: .seconds(2), maximumDelay: .seconds(300), multiplier: 2, jitter: 0.5)

    public init(initialDelay: Duration, maximumDelay: Duration, multiplier: Double, jitter: Double) {
        precondition(multiplier >= 1 && (0...1).contains(jitter), "invalid retry policy")
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt number `attempt + 1`, given that `attempt` attempts failed (≥ 1).
    public func delay(afterFailedAttempts attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = Self.seconds(initialDelay) * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, Self.seconds(maximumDelay))
        let spread = capped * jitter
        let value = capped - spread + Double.random(in: 0...1, using: &generator) * spread
        return .milliseconds(Int64(value * 1000))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
