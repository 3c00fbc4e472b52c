import Synchronization

/// Live subscribers per queue: each deposit is yielded to the queue's open subscriptions.
final class SubscriptionHub: Sendable {
    /// Notifications buffered per subscriber before the oldest are dropped (a slow
    /// subscriber drains with list/fetch anyway).
    static let bufferedNotifications = 1_024

    private struct State {
        var subscribers: [QueueID: [UInt64: AsyncStream<MailboxResponse.Entry>.Continuation]] = [:]
        var nextID: UInt64 = 1
    }

    private let state = Mutex(State())

    /// Adds a subscriber, or returns `nil` if the queue already has `limit` of them.
    func subscribe(to queue: QueueID, limit: Int) -> AsyncStream<MailboxResponse.Entry>? {
        let (stream, continuation) = AsyncStream<MailboxResponse.Entry>.makeStream(
            bufferingPolicy: .bufferingNewest(Self.bufferedNotifications))
        let id = state.withLock { state -> UInt64? in
            guard state.subscribers[queue, default: [:]].count < limit else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[queue, default: [:]][id] = continuation
            return id
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.subscribers[queue]?.removeValue(forKey: id)
                if state.subscribers[queue]?.isEmpty == true { state.subscribers.removeValue(forKey: queue) }
            }
        }
        return stream
    }

    /// Tells the queue's subscribers about a deposit.
    func publish(_ entry: MailboxResponse.Entry, to queue: QueueID) {
        let continuations = state.withLock { Array(($0.subscribers[queue] ?? [:]).values) }
        for continuation in continuations { continuation.yield(entry) }
    }

    /// Ends the queue's subscriptions (the queue was deleted).
    func finish(_ queue: QueueID) {
        let continuations = state.withLock { $0.subscribers.removeValue(forKey: queue).map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.finish() }
    }

    /// The number of open subscriptions to `queue`.
    func subscriberCount(_ queue: QueueID) -> Int {
        state.withLock { $0.subscribers[queue]?.count ?? 0 }
    }
}
