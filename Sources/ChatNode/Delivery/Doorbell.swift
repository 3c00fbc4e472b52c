import Foundation
import Synchronization

/// Wakes the delivery loop: `ring()` from anywhere, `wait(atMost:)` in the loop. Rings while
/// nobody waits are remembered (coalesced into one).
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next one.
    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after a ring, when `due` (if any, judged against `now`) has come, after
    /// `interval` at the latest, or when the task is cancelled: a worker loop's sleep between
    /// passes.
    func wait(until due: Date?, now: Date, atMost interval: Duration) async {
        var timeout = interval
        if let due {
            let seconds = max(0, due.timeIntervalSince(now))
            timeout = min(timeout, .milliseconds(Int64(seconds * 1000) + 1))
        }
        await wait(atMost: timeout)
    }

    /// Returns after a ring, after `timeout`, or when the task is cancelled.
    func wait(atMost timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    self.ring()
                } catch {}
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if state.rung {
                            state.rung = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.ring()
            }
            group.cancelAll()
        }
    }
}
