import Synchronization

/// Fans node events out to every connected WebSocket: each subscriber gets its own stream
/// (keeping the newest events if a slow browser falls behind; it refetches on reconnect anyway).
final class EventHub: Sendable {
    /// Events buffered per subscriber before the oldest are dropped.
    static let bufferSize = 512

    private struct State {
        var nextID = 0
        var subscribers: [Int: AsyncStream<WebEvent>.Continuation] = [:]
        var isFinished = false
        /// Whether the publisher has its baseline: events from then on reach subscribers.
        var isReady = false
        var readyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// A stream of the events published from now on; it finishes when the hub does.
    func subscribe() -> AsyncStream<WebEvent> {
        let (stream, continuation) = AsyncStream<WebEvent>.makeStream(bufferingPolicy: .bufferingNewest(Self.bufferSize))
        let id: Int? = state.withLock { state in
            guard !state.isFinished else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// The publisher has taken the state it diffs against: every change after this point is
    /// published.
    func markReady() {
        let waiters = state.withLock { state in
            state.isReady = true
            defer { state.readyWaiters = [] }
            return state.readyWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ``markReady()`` (or ``finish()``) has been called: a subscriber that waits
    /// for it before greeting its browser promises events for every change after the greeting.
    func waitUntilReady() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if state.isReady || state.isFinished { return true }
                state.readyWaiters.append(waiter)
                return false
            }
            if ready { waiter.resume() }
        }
    }

    /// How many subscribers are connected.
    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// Sends `events` to every subscriber, in order.
    func publish(_ events: [WebEvent]) {
        guard !events.isEmpty else { return }
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers {
            for event in events { subscriber.yield(event) }
        }
    }

    /// Ends every subscription (server shutdown).
    func finish() {
        let (subscribers, waiters) = state.withLock { state in
            state.isFinished = true
            defer {
                state.subscribers = [:]
                state.readyWaiters = []
            }
            return (Array(state.subscribers.values), state.readyWaiters)
        }
        for subscriber in subscribers { subscriber.finish() }
        for waiter in waiters { waiter.resume() }
    }
}
