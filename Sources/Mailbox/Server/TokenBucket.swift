/// A token bucket: `capacity` tokens, refilled at `ratePerSecond`; each admitted action takes
/// one. Time comes from the caller (milliseconds), so tests drive it with an injected clock.
struct TokenBucket: Sendable {
    let capacity: Double
    let ratePerSecond: Double
    private(set) var tokens: Double
    private var updatedAt: UInt64

    init(capacity: Double, ratePerSecond: Double, now: UInt64) {
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        tokens = capacity
        updatedAt = now
    }

    private mutating func refill(now: UInt64) {
        guard now > updatedAt else { return }
        tokens = min(capacity, tokens + Double(now - updatedAt) / 1000 * ratePerSecond)
        updatedAt = now
    }

    /// Takes a token if one is there.
    mutating func take(now: UInt64) -> Bool {
        refill(now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether the bucket is full at `now` (the connection has been idle).
    mutating func isFull(now: UInt64) -> Bool {
        refill(now: now)
        return tokens >= capacity
    }
}
