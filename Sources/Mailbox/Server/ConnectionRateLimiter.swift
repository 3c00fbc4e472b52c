import Synchronization

/// Per-connection rate limits: one token bucket for requests of any kind and one for
/// deposits, keyed by the libp2p connection. Idle connections' buckets are dropped by
/// `prune` (from the server's sweep), so the table stays small.
final class ConnectionRateLimiter: Sendable {
    private struct Buckets {
        var requests: TokenBucket
        var deposits: TokenBucket
    }

    /// The most connections tracked; beyond it, idle entries are pruned at once.
    static let maxTrackedConnections = 65_536

    private let configuration: MailboxConfiguration
    private let table = Mutex<[UInt64: Buckets]>([:])

    init(configuration: MailboxConfiguration) {
        self.configuration = configuration
    }

    private func withBuckets<T>(_ connection: UInt64, now: UInt64, _ body: (inout Buckets) -> T) -> T {
        table.withLock { table in
            if table[connection] == nil {
                if table.count >= Self.maxTrackedConnections { Self.prune(&table, now: now) }
                table[connection] = Buckets(
                    requests: TokenBucket(capacity: configuration.requestBurst, ratePerSecond: configuration.requestsPerSecond, now: now),
                    deposits: TokenBucket(capacity: configuration.depositBurst, ratePerSecond: configuration.depositsPerSecond, now: now))
            }
            return body(&table[connection]!)
        }
    }

    /// Takes a request token for `connection`.
    func admitRequest(on connection: UInt64, now: UInt64) -> Bool {
        withBuckets(connection, now: now) { $0.requests.take(now: now) }
    }

    /// Takes a deposit token for `connection`.
    func admitDeposit(on connection: UInt64, now: UInt64) -> Bool {
        withBuckets(connection, now: now) { $0.deposits.take(now: now) }
    }

    /// Forgets connections whose buckets have refilled (idle ones).
    func prune(now: UInt64) {
        table.withLock { Self.prune(&$0, now: now) }
    }

    private static func prune(_ table: inout [UInt64: Buckets], now: UInt64) {
        for key in Array(table.keys) {
            if table[key]!.requests.isFull(now: now) && table[key]!.deposits.isFull(now: now) {
                table.removeValue(forKey: key)
            }
        }
    }
}
