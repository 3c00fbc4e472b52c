import ChatNode
import Logging
import ServiceLifecycle

/// Turns node activity into `WebEvent`s: an adapter over `ChatNode` and `ChatStore`, which do
/// not publish events of their own yet.
///
/// It keeps a `ChangeSnapshot` of what the UI shows and, whenever something may have changed,
/// takes a new one and publishes the difference. "May have changed" is: a host connection
/// event (presence), a change to the outbox as GRDB observes it (sends, acks, receipts queued
/// for incoming messages), an API action, or the periodic `interval` (for writes the
/// observation cannot see: read receipts that touch no outbox row, and other processes such as
/// the CLI writing to the same database). Refreshes are serialized and coalesced.
final class ChangeMonitor: Service, Sendable {
    let backend: ChatWebBackend
    let hub: EventHub
    let interval: Duration
    let logger: Logger
    private let triggers: AsyncStream<Void>
    private let trigger: AsyncStream<Void>.Continuation

    init(backend: ChatWebBackend, hub: EventHub, interval: Duration = .seconds(1), logger: Logger) {
        self.backend = backend
        self.hub = hub
        self.interval = interval
        self.logger = logger
        (triggers, trigger) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a refresh soon (coalesced with any pending one).
    func poke() { trigger.yield() }

    /// Watches until graceful shutdown or cancellation, then ends every subscription.
    func run() async throws {
        defer { hub.finish() }
        await cancelWhenGracefulShutdown { [self] in
            await withDiscardingTaskGroup { group in
                let hostEvents = backend.node.host.events()
                group.addTask {
                    for await _ in hostEvents { self.poke() }
                }
                group.addTask {
                    do {
                        for try await _ in self.backend.database.observeOutboxCounts() { self.poke() }
                    } catch {
                        self.logger.debug("outbox observation ended", metadata: ["reason": "\(error)"])
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: self.interval) } catch { return }
                        self.poke()
                    }
                }
                group.addTask { await self.refreshLoop() }
            }
        }
    }

    private func refreshLoop() async {
        // The baseline, at once rather than at the first trigger: sockets greet their browser
        // only after it (`EventHub.waitUntilReady`).
        var current: ChangeSnapshot?
        do {
            current = try await snapshot()
        } catch {
            logger.warning("cannot read the node's state for the web UI", metadata: ["reason": "\(error)"])
        }
        hub.markReady()
        for await _ in triggers {
            guard !Task.isCancelled else { return }
            do {
                let next = try await snapshot()
                if let current { hub.publish(next.events(since: current)) }
                current = next
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cannot read the node's state for the web UI", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// The UI's current state.
    func snapshot() async throws -> ChangeSnapshot {
        let contacts = try await backend.contacts()
        var messages: [Int64: [String: MessageJSON]] = [:]
        for contact in contacts {
            let page = try await backend.messages(contactID: contact.id, before: nil, limit: ChatWebBackend.monitoredWindow)
            messages[contact.id] = Dictionary(uniqueKeysWithValues: page.messages.map { ($0.id, $0) })
        }
        return ChangeSnapshot(contacts: contacts, messages: messages, queue: try await backend.queueCounts())
    }
}
