import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Logging
import Mailbox
import Multiformats

/// The receiving side of offline delivery (ARCHITECTURE.md Delivery §4): drains our mailbox
/// queues through the same inbound path as direct delivery.
///
/// Per queue: list a batch, fetch it (every block checked against its CID by the client),
/// hand each envelope to `InboundProcessor` (decrypt, de-duplicate by message id, store with
/// the advanced session, queue a delivery receipt), and only then acknowledge the batch to the
/// mailbox, which deletes it. A crash before the acknowledgement re-delivers the batch, which
/// de-duplicates. The sender of an envelope is the contact the queue belongs to; an unclaimed
/// invite queue learns it from the session-starting prekey message.
public final class MailboxReceiver: Sendable {
    /// Envelopes listed and fetched per round trip.
    public static let batchSize = 256

    let account: ChatAccount
    let client: MailboxClient
    let inbound: InboundProcessor
    let logger: Logger

    /// A receiver for one-off drains (`p2pchat sync`): receipts are queued, not sent.
    public convenience init(account: ChatAccount, client: MailboxClient, logger: Logger = Logger(label: "p2pchat.mailboxes")) {
        let inbound = InboundProcessor(account: account, locks: KeyedLock<PeerID>(), logger: logger, onQueued: { _ in })
        self.init(account: account, client: client, inbound: inbound, logger: logger)
    }

    init(account: ChatAccount, client: MailboxClient, inbound: InboundProcessor, logger: Logger) {
        self.account = account
        self.client = client
        self.inbound = inbound
        self.logger = logger
    }

    /// Drains every queue once; a queue whose mailbox fails is counted in `failedQueues`.
    public func drainAll() async throws -> DrainReport {
        var report = DrainReport()
        for queue in try await account.database.mailboxQueues() {
            do {
                report += try await drain(queue)
            } catch let error as ChatStoreError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                report.failedQueues += 1
                logger.notice("cannot drain a mailbox queue", metadata: ["mailbox": "\(queue.mailbox)", "reason": "\(error)"])
            }
        }
        return report
    }

    /// Drains one queue until the mailbox lists nothing more.
    func drain(_ queue: MailboxQueueRecord) async throws -> DrainReport {
        let credentials: QueueCredentials
        do {
            credentials = try QueueCredentials(parsing: Array(queue.credentials))
        } catch {
            throw ChatNodeError(.malformedInput, "stored queue credentials do not parse", underlying: error)
        }
        let session = try await client.session(to: credentials.mailbox)
        do {
            let report = try await drain(queue, credentials: credentials, over: session)
            await session.close()
            return report
        } catch {
            await session.close()
            throw error
        }
    }

    private func drain(_ queue: MailboxQueueRecord, credentials: QueueCredentials, over session: MailboxSession) async throws -> DrainReport {
        var report = DrainReport()
        var owner = try await queue.contactID.asyncMap { try await account.database.contact(id: $0) } ?? nil
        var after: UInt64 = 0
        while true {
            try Task.checkCancellation()
            let entries = try await session.list(credentials, after: after, limit: Self.batchSize)
            guard let last = entries.last else { break }
            after = last.sequence
            let fetched = try await session.fetch(entries.map(\.cid), from: credentials)
            report.fetched += fetched.envelopes.count
            report.corrupt += fetched.corrupt.count
            // Deposit order (the sender's order); the fetch may answer in several parts.
            let position = Dictionary(entries.enumerated().map { ($1.cid, $0) }, uniquingKeysWith: { first, _ in first })
            let blocks = fetched.envelopes.sorted { (position[$0.cid] ?? 0) < (position[$1.cid] ?? 0) }
            var handled: [CID] = []
            for block in blocks {
                let sender: PeerID
                if let owner {
                    sender = owner.peerID
                } else if let claimant = try await prekeySender(of: block.data) {
                    sender = claimant
                } else {
                    report.rejected += 1
                    handled.append(block.cid)
                    logger.notice("envelope in an unclaimed queue does not start a session; dropped")
                    continue
                }
                let ack = try await inbound.receive(block.data, from: sender)
                switch ack.status {
                case .stored: report.stored += 1
                case .duplicate: report.duplicates += 1
                case .rejected:
                    report.rejected += 1
                    logger.notice("mailbox envelope rejected", metadata: ["reason": "\(ack.reason)"])
                }
                handled.append(block.cid)
                if owner == nil, ack.status != .rejected, let contact = try await account.database.contact(peerID: sender) {
                    try await account.database.claimMailboxQueue(queueID: queue.queueID, contactID: contact.id)
                    owner = contact
                }
            }
            // Store first, then acknowledge (the mailbox deletes what we acknowledge).
            if !handled.isEmpty {
                report.acknowledged += try await session.acknowledge(handled, in: credentials)
            }
        }
        return report
    }

    /// The sender named by a session-starting envelope, if it is one we can open.
    private func prekeySender(of bytes: [UInt8]) async throws -> PeerID? {
        guard let envelope = try? Envelope(parsing: bytes), envelope.kind == .preKeyMessage else { return nil }
        let keys = try await account.vault.load()
        return (try? SessionResponder.unseal(envelope: envelope, ourPreKeys: keys))?.senderPeerID
    }

    // MARK: Live

    /// For the node: drains every queue now, then follows each one live (subscription; a
    /// drain per wake-up), picking up new queues whenever `refresh` rings; until cancelled.
    func run(refresh: Doorbell, idle: Duration, provision: @escaping @Sendable () async -> Void) async {
        await withDiscardingTaskGroup { group in
            var following: Set<Int64> = []
            while !Task.isCancelled {
                await provision()
                let queues = (try? await account.database.mailboxQueues()) ?? []
                for queue in queues where following.insert(queue.id).inserted {
                    group.addTask { await self.follow(queue, idle: idle) }
                }
                await refresh.wait(atMost: idle)
            }
        }
    }

    /// Keeps one queue drained: subscribe, drain, drain again on every notification; on
    /// failure retry with backoff. Ends when the queue is deleted or the task is cancelled.
    private func follow(_ queue: MailboxQueueRecord, idle: Duration) async {
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            guard let current = try? await account.database.mailboxQueues().first(where: { $0.id == queue.id }) else { return }
            do {
                let credentials = try QueueCredentials(parsing: Array(current.credentials))
                let subscription = try await client.subscribe(to: credentials)
                backoff = .seconds(1)
                let bell = Doorbell()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await _ in subscription { bell.ring() }
                        } catch {
                            self.logger.debug("mailbox subscription ended", metadata: ["reason": "\(error)"])
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            do {
                                guard let latest = try await self.account.database.mailboxQueues().first(where: { $0.id == queue.id }) else { break }
                                let report = try await self.drain(latest)
                                if report.fetched > 0 {
                                    self.logger.info("drained a mailbox queue", metadata: ["stored": "\(report.stored)", "duplicates": "\(report.duplicates)"])
                                }
                            } catch is CancellationError {
                                break
                            } catch {
                                self.logger.notice("mailbox drain failed", metadata: ["reason": "\(error)"])
                            }
                            await bell.wait(atMost: idle)
                        }
                    }
                    _ = await group.next()
                    group.cancelAll()
                    await subscription.close()
                }
            } catch {
                logger.notice("cannot follow a mailbox queue; retrying", metadata: ["mailbox": "\(queue.mailbox)", "reason": "\(error)", "retry-in": "\(backoff)"])
            }
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return
            }
            backoff = min(backoff * 2, .seconds(60))
        }
    }
}

/// What one drain did.
public struct DrainReport: Sendable, Hashable, Codable {
    /// Envelopes fetched (verified against their CIDs).
    public var fetched = 0
    /// New messages stored.
    public var stored = 0
    /// Envelopes we already had (the same message by another path or mailbox).
    public var duplicates = 0
    /// Envelopes refused (cannot be opened); deleted at the mailbox.
    public var rejected = 0
    /// Envelopes acknowledged (deleted at the mailbox).
    public var acknowledged = 0
    /// Envelopes whose bytes did not match their CID.
    public var corrupt = 0
    /// Queues whose mailbox could not be reached.
    public var failedQueues = 0

    public init() {}

    static func += (lhs: inout DrainReport, rhs: DrainReport) {
        lhs.fetched += rhs.fetched
        lhs.stored += rhs.stored
        lhs.duplicates += rhs.duplicates
        lhs.rejected += rhs.rejected
        lhs.acknowledged += rhs.acknowledged
        lhs.corrupt += rhs.corrupt
        lhs.failedQueues += rhs.failedQueues
    }
}
