import Synchronization

/// Mutual exclusion per key, for async code: the node holds a contact's lock while it loads,
/// advances and saves that contact's ratchet session, so sealing and opening never race.
/// Waiters are served in arrival order. Never hold it across network I/O.
final class KeyedLock<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var held: Set<Key> = []
        var waiters: [Key: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// Runs `body` while holding `key`.
    func withLock<T: Sendable>(_ key: Key, _ body: @Sendable () async throws -> T) async throws -> T {
        await acquire(key)
        do {
            let result = try await body()
            release(key)
            return result
        } catch {
            release(key)
            throw error
        }
    }

    private func acquire(_ key: Key) async {
        await withCheckedContinuation { continuation in
            let acquired = state.withLock { state -> Bool in
                if state.held.insert(key).inserted { return true }
                state.waiters[key, default: []].append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func release(_ key: Key) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if var waiting = state.waiters[key], !waiting.isEmpty {
                let next = waiting.removeFirst()
                state.waiters[key] = waiting.isEmpty ? nil : waiting
                return next  // ownership passes to the next waiter
            }
            state.held.remove(key)
            return nil
        }
        next?.resume()
    }
}
