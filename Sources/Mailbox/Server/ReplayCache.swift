/// Replay protection for signed requests: a request is accepted once, and only while its
/// timestamp is within `window` of the mailbox clock. Nonces are kept in one-second buckets
/// and forgotten when their second leaves the window. When the cache is full the oldest
/// bucket is dropped and `floor` rises past it, so an evicted nonce can never be replayed
/// (its timestamp is now below the floor). After a restart, `floor` is the start time, so
/// requests signed before the restart are refused as expired.
struct ReplayCache: Sendable {
    /// The verdict on one request.
    enum Verdict: Sendable, Equatable {
        case accepted
        case expired
        case replayed
    }

    let windowMilliseconds: UInt64
    let maxEntries: Int
    private(set) var floor: UInt64
    private var buckets: [UInt64: Set<[UInt8]>] = [:]
    private var oldestBucket: UInt64?
    private(set) var count = 0

    init(windowSeconds: UInt64, maxEntries: Int, startedAt: UInt64) {
        windowMilliseconds = windowSeconds * 1000
        self.maxEntries = max(1, maxEntries)
        floor = startedAt
    }

    /// Checks only the timestamp (cheap; before verifying the signature).
    func isFresh(_ timestamp: UInt64, now: UInt64) -> Bool {
        timestamp >= floor && timestamp + windowMilliseconds >= now && timestamp <= now + windowMilliseconds
    }

    /// Records the nonce of a request whose signature verified.
    mutating func admit(nonce: [UInt8], timestamp: UInt64, now: UInt64) -> Verdict {
        guard isFresh(timestamp, now: now) else { return .expired }
        prune(before: now > windowMilliseconds ? (now - windowMilliseconds) / 1000 : 0)
        let second = timestamp / 1000
        if buckets[second, default: []].insert(nonce).inserted == false { return .replayed }
        count += 1
        if oldestBucket.map({ second < $0 }) ?? true { oldestBucket = second }
        while count > maxEntries, let oldest = oldestBucket {
            let removed = buckets.removeValue(forKey: oldest)?.count ?? 0
            count -= removed
            floor = max(floor, (oldest + 1) * 1000)
            oldestBucket = buckets.isEmpty ? nil : (removed == 0 ? buckets.keys.min() : oldest + 1)
        }
        return .accepted
    }

    /// Forgets buckets of seconds before `second`.
    private mutating func prune(before second: UInt64) {
        guard var oldest = oldestBucket, oldest < second else { return }
        if second - oldest > UInt64(buckets.count) * 4 + 8 {
            // Long idle: jump instead of walking every second.
            for key in buckets.keys where key < second { count -= buckets.removeValue(forKey: key)?.count ?? 0 }
            oldestBucket = buckets.keys.min()
            return
        }
        while oldest < second {
            count -= buckets.removeValue(forKey: oldest)?.count ?? 0
            oldest += 1
        }
        oldestBucket = buckets.isEmpty ? nil : oldest
    }
}
