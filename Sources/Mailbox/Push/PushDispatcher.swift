import Synchronization

/// The background queue of push wake-ups. A deposit only enqueues (never waits); `run`
/// delivers. Wake-ups per queue are coalesced: while one is being delivered, further
/// deposits set a flag that sends one more afterwards, so a burst of deposits costs at most
/// two POSTs and no wake-up is lost.
final class PushDispatcher: Sendable {
    /// The most distinct queues waiting for a wake-up before new ones are dropped.
    static let maxPendingQueues = 4_096

    struct Job: Sendable {
        var queue: QueueID
        var endpoint: PushEndpoint
    }

    private let jobs: AsyncStream<Job>
    private let continuation: AsyncStream<Job>.Continuation
    /// Queues with a wake-up pending or in flight, and whether another is owed after it.
    private let active = Mutex<[QueueID: Bool]>([:])

    init() {
        (jobs, continuation) = AsyncStream<Job>.makeStream(bufferingPolicy: .bufferingOldest(Self.maxPendingQueues))
    }

    /// Asks for a wake-up of `queue` at `endpoint`; returns at once.
    func enqueue(_ queue: QueueID, endpoint: PushEndpoint) {
        let isNew = active.withLock { active -> Bool in
            if active[queue] != nil {
                active[queue] = true
                return false
            }
            guard active.count < Self.maxPendingQueues else { return false }
            active[queue] = false
            return true
        }
        if isNew { continuation.yield(Job(queue: queue, endpoint: endpoint)) }
    }

    /// Delivers jobs until cancelled or `finish()`, each in its own child task.
    func run(deliver: @escaping @Sendable (Job) async -> Void) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask {
                    while true {
                        await deliver(job)
                        let again = self.active.withLock { active -> Bool in
                            if active[job.queue] == true {
                                active[job.queue] = false
                                return true
                            }
                            active.removeValue(forKey: job.queue)
                            return false
                        }
                        if !again || Task.isCancelled { break }
                    }
                }
            }
        }
    }

    /// Ends `run()` once the jobs already enqueued are delivered.
    func finish() {
        continuation.finish()
    }
}
