import Foundation

/// Lets a thread wait until a ``Blockstore`` commits more blocks: each commit bumps a
/// generation number and wakes the waiters. A streaming export uses it to follow a fetch,
/// reading each block as soon as it is durably stored.
final class CommitSignal: @unchecked Sendable {
    // `generation` is only read or written with `condition` locked.
    private let condition = NSCondition()
    private var generation: UInt64 = 0

    /// The number of commits so far.
    var current: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    /// Records a commit and wakes every waiter.
    func committed() {
        condition.lock()
        generation &+= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes every waiter without a commit (the caller's own condition changed).
    func wakeAll() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling thread until the generation passes `seen`, a ``wakeAll()``, or
    /// `timeout`, whichever comes first.
    func wait(after seen: UInt64, timeout: Duration) {
        let deadline = Date(timeIntervalSinceNow: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18)
        condition.lock()
        defer { condition.unlock() }
        if generation == seen {
            _ = condition.wait(until: deadline)
        }
    }
}
