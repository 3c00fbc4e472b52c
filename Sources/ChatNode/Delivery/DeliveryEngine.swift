import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Logging
import Multiformats
import Synchronization

/// The sending half of direct delivery: drains the outbox (ARCHITECTURE.md Delivery §1–2, §5).
///
/// One pass at a time; within a pass, one pipeline per contact (contacts in parallel). A
/// contact's queued messages go out in sequence order; each is sealed at its first attempt
/// (`commitSealed`: envelope and session advance together) and every retry resends the same
/// bytes. The peer's ack makes a text `sent` (receipts and control messages are done then);
/// receipts later make it `delivered`/`read`. An unreachable contact's first message is
/// rescheduled with `RetryPolicy` backoff; a presence change or a `kick` makes it due at once.
/// Messages past their TTL become `failed(expired)`.
final class DeliveryEngine: Sendable {
    /// Envelopes written before reading their acknowledgements.
    static let batchSize = 32

    let account: ChatAccount
    let host: LibP2P.Host
    let locks: KeyedLock<PeerID>
    let configuration: ChatNodeConfiguration
    let logger: Logger
    private let doorbell = Doorbell()
    private let forced = Mutex<(all: Bool, peers: Set<PeerID>)>((false, []))
    private let random = Mutex(SystemRandomNumberGenerator())
    private let passes = Mutex<UInt64>(0)
    /// Deposits in the recipient's mailboxes when it cannot be reached; `nil`: direct only.
    let depositor: MailboxDepositor?
    /// Storacha hook: deposits in the recipient's Storacha spaces too (ChatNode/Storacha).
    let storacha: StorachaDepositor?

    init(
        account: ChatAccount, host: LibP2P.Host, locks: KeyedLock<PeerID>, configuration: ChatNodeConfiguration, logger: Logger,
        depositor: MailboxDepositor? = nil, storacha: StorachaDepositor? = nil
    ) {
        self.storacha = storacha
        self.account = account
        self.host = host
        self.locks = locks
        self.configuration = configuration
        self.logger = logger
        self.depositor = depositor
    }

    /// Makes every contact's queue due now and wakes the loop (new work, e.g. `send`).
    func kickAll() {
        forced.withLock { $0.all = true }
        doorbell.ring()
    }

    /// Makes `peer`'s queue due now (it came online, or owes it a receipt) and wakes the loop.
    func wake(_ peer: PeerID) {
        forced.withLock { _ = $0.peers.insert(peer) }
        doorbell.ring()
    }

    /// How many passes completed (for tests and `send --wait`).
    var completedPasses: UInt64 { passes.withLock { $0 } }

    /// Delivers until cancelled.
    func run() async {
        while !Task.isCancelled {
            var nextDue: Date?
            do {
                nextDue = try await pass()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("delivery pass failed", metadata: ["reason": "\(error)"])
            }
            passes.withLock { $0 += 1 }
            await doorbell.wait(until: nextDue, now: account.now(), atMost: configuration.idleWakeInterval)
        }
    }

    /// One pass over the outbox; returns when the earliest rescheduled message is due.
    func pass() async throws -> Date? {
        let now = account.now()
        let expired = try await account.database.expireOverdue(now: now)
        if !expired.isEmpty { logger.info("messages expired", metadata: ["count": "\(expired.count)"]) }
        let entries = try await account.database.dueOutbox(now: .distantFuture, limit: 1_000_000)
        var queues: [ContactID: [OutboxEntry]] = [:]
        var earliestExpiry: Date?
        for entry in entries {
            if let expiry = entry.message.expiresAt { earliestExpiry = min(earliestExpiry ?? expiry, expiry) }
            // `stored` messages are also retried directly (backoff only), in case the mailbox
            // copy never reaches the recipient; `sent` ones only wait for their receipt.
            guard entry.message.state == .queued || entry.message.state.kind == .stored else { continue }
            queues[entry.contactID, default: []].append(entry)
        }
        let (forceAll, forcedPeers) = forced.withLock { state in
            defer { state = (false, []) }
            return state
        }
        var nextDue = earliestExpiry
        var due: [(Contact, [OutboxEntry])] = []
        for (contactID, queue) in queues {
            let ordered = queue.sorted { $0.message.seq < $1.message.seq }
            guard let contact = try await account.database.contact(id: contactID) else { continue }
            let fresh = ordered.filter { $0.message.state == .queued }
            let stored = ordered.filter { $0.message.state != .queued }
            var work: [OutboxEntry] = []
            if let head = fresh.first {
                if forceAll || forcedPeers.contains(contact.peerID) || head.nextAttemptAt <= now {
                    work += fresh
                } else {
                    nextDue = min(nextDue ?? head.nextAttemptAt, head.nextAttemptAt)
                }
            }
            if let head = stored.first {
                if head.nextAttemptAt <= now {
                    work += stored
                } else {
                    nextDue = min(nextDue ?? head.nextAttemptAt, head.nextAttemptAt)
                }
            }
            if !work.isEmpty { due.append((contact, work.sorted { $0.message.seq < $1.message.seq })) }
        }
        let rescheduled = await withTaskGroup(of: Date?.self) { group in
            for (contact, queue) in due {
                group.addTask { await self.deliver(queue, to: contact) }
            }
            var earliest: Date?
            for await date in group {
                if let date { earliest = min(earliest ?? date, date) }
            }
            return earliest
        }
        if let rescheduled { nextDue = min(nextDue ?? rescheduled, rescheduled) }
        return nextDue
    }

    /// Delivers `queue` (one contact's queued messages, in order); returns the retry time if it stopped early.
    private func deliver(_ queue: [OutboxEntry], to contact: Contact) async -> Date? {
        let stream: BufferedByteStream
        do {
            stream = try await open(to: contact)
        } catch {
            let reason = "unreachable: \(Self.describe(error))"
            let spaces = await storacha?.batch(for: contact)  // Storacha hook: the recipient's spaces
            if let depositor, !contact.mailboxes.isEmpty || spaces?.inboxes.isEmpty == false {
                return await deposit(queue, to: contact, with: depositor, because: reason, spaces: spaces)
            }
            return await reschedule(queue[0], error: reason)
        }
        let result = await deliver(queue, to: contact, over: stream)
        await stream.close()
        return result
    }

    private func deliver(_ queue: [OutboxEntry], to contact: Contact, over stream: BufferedByteStream) async -> Date? {
        var remaining = queue[...]
        while !remaining.isEmpty {
            var written: [OutboxEntry] = []
            var waiting: AwaitingSession?
            do {
                while written.count < Self.batchSize, waiting == nil, let entry = remaining.first {
                    let envelope: Data?
                    do {
                        envelope = try await self.envelope(for: entry, contact: contact)
                    } catch let error as AwaitingSession {
                        waiting = error  // this one and the rest wait; the written ones still get their acks
                        break
                    }
                    guard let envelope else {
                        remaining.removeFirst()  // marked failed (unsealable); keep going
                        continue
                    }
                    try await stream.writeLengthPrefixed(DeliveryProtocol.encodeDeliver(Array(envelope)))
                    written.append(entry)
                    remaining.removeFirst()
                }
                while let entry = written.first {
                    let ack = try await withDeadline(configuration.ackTimeout, closing: stream, orThrow: Self.unreachable("acknowledgement from \(contact.displayName)")) {
                        try await DeliveryProtocol.readAck(from: stream)
                    }
                    try await apply(ack, to: entry)
                    written.removeFirst()
                }
            } catch is CancellationError {
                return nil
            } catch {
                guard let head = written.first ?? remaining.first else { return nil }
                return await reschedule(head, error: "delivery interrupted: \(Self.describe(error))")
            }
            if let waiting, let head = remaining.first {
                return await reschedule(head, error: waiting.reason)
            }
        }
        return nil
    }

    /// The error of a deadline that passed while waiting for `what`: `.unreachable`.
    private static func unreachable(_ what: String) -> @Sendable (Duration) -> any Error {
        { ChatNodeError(.unreachable, "\(what): no answer within \($0)") }
    }

    private func open(to contact: Contact) async throws -> BufferedByteStream {
        host.peerStore.addAddresses(contact.addresses, for: contact.peerID)
        let negotiated = try await withDeadline(configuration.dialTimeout, closing: nil, orThrow: Self.unreachable("dialing \(contact.displayName)")) { [host] in
            try await host.newStream(to: contact.peerID, protocols: [DeliveryProtocol.protocolID])
        }
        return negotiated.stream
    }

    /// The entry's envelope: the stored one, or sealed now (first attempt) under the contact
    /// lock; `nil` when it cannot ever be sealed (then it is marked `failed(unsealable)`).
    ///
    /// - Throws: ``AwaitingSession`` while the contact has no session yet (see there): the
    ///   entry stays queued.
    func envelope(for entry: OutboxEntry, contact: Contact) async throws -> Data? {
        if let envelope = entry.envelope { return envelope }
        for _ in 0..<5 {
            do {
                return try await locks.withLock(contact.peerID) {
                    try await self.sealLocked(entry, contact: contact)
                }
            } catch let error as ChatStoreError where error.code == .sessionConflict {
                continue
            } catch let error as ChatStoreError where error.code == .alreadySealed {
                // Another process sealed it first: use its envelope.
                let entries = try await account.database.dueOutbox(now: .distantFuture, limit: 1_000_000)
                return entries.first { $0.message.id == entry.message.id }?.envelope
            }
        }
        throw ChatNodeError(.control, "session with \(contact.displayName) keeps changing")
    }

    private func sealLocked(_ entry: OutboxEntry, contact: Contact) async throws -> Data? {
        let database = account.database
        let message = entry.message
        guard let stored = try await database.loadSession(contactID: contact.id) else {
            throw AwaitingSession(reason: "no session with \(contact.displayName) yet: waiting for their first message")
        }
        var body = message.body
        if message.kind == .receipt, var receipt = try? ReceiptContent(parsing: body) {
            var kept: [String] = []
            for id in receipt.messageIDs where try await database.message(id: id) != nil {
                kept.append(id.description)
            }
            guard !kept.isEmpty else {
                try await fail(message.id, .unsealable, "receipt for messages that were never stored")
                return nil
            }
            receipt.ids = kept
            body = receipt.body
        }
        var session = try InboundProcessor.restore(stored)
        let envelope: Envelope
        do {
            let content = try PlainContent(
                kind: message.kind.contentKind, sender: account.peerID, conversationID: contact.conversationID.bytes,
                sequence: UInt64(message.seq), sentAt: message.sentAt.unixMilliseconds, messageID: message.id.bytes,
                replyTo: message.replyTo?.bytes, body: Array(body.utf8))
            envelope = try session.seal(content: content, now: account.now().unixMilliseconds)
        } catch let error as ChatCryptoError {
            try await fail(message.id, .unsealable, "\(error.code): \(error.message)")
            return nil
        }
        let data = Data(envelope.encoded)
        try await database.commitSealed(
            messageID: message.id, envelope: data, contactID: contact.id, sessionState: Data(session.serialized()),
            expectedSessionVersion: stored.version, now: account.now())
        return data
    }

    private func apply(_ ack: DeliveryProtocol.Ack, to entry: OutboxEntry) async throws {
        let message = entry.message
        switch ack.status {
        case .stored, .duplicate:
            try await account.database.markState(messageID: message.id, state: message.kind.isVisible ? .sent : .delivered, now: account.now())
        case .rejected where ack.reason.hasPrefix(InboundProcessor.supersededReason):
            // Our session lost a collision; the peer's first message makes us adopt its
            // session and seal this message again.
            _ = await reschedule(entry, error: ack.reason)
        case .rejected:
            logger.warning("envelope rejected", metadata: ["message": "\(message.id)", "reason": "\(ack.reason)"])
            try await fail(message.id, .rejected, ack.reason.isEmpty ? "rejected by the recipient" : ack.reason)
        }
    }

    /// The recipient is unreachable: puts the queue's envelopes (sealed now if need be) in its
    /// mailboxes, in order, and schedules direct retries. Stops at the first message no
    /// mailbox accepted (it stays `queued`). Returns when the next attempt is due.
    private func deposit(
        _ queue: [OutboxEntry], to contact: Contact, with depositor: MailboxDepositor, because reason: String,
        spaces: StorachaDepositor.Batch? = nil
    ) async -> Date? {
        let batch = MailboxDepositor.Batch(addresses: MailboxDepositor.addresses(of: contact))
        let spaceCount = spaces?.inboxes.count ?? 0  // Storacha hook: spaces count as mailboxes
        guard !batch.addresses.isEmpty || spaceCount > 0 else { return await reschedule(queue[0], error: reason) }
        let wanted = min(max(1, depositor.replicas), batch.addresses.count + spaceCount)
        var earliest: Date?
        do {
            for entry in queue {
                if case .stored(let copies, _) = entry.message.state, copies >= wanted {
                    // Already in enough mailboxes: only the direct retry was due.
                    if entry.message.id == queue[0].message.id { earliest = await reschedule(entry, error: reason) }
                    continue
                }
                let envelope: Data?
                do {
                    envelope = try await self.envelope(for: entry, contact: contact)
                } catch let waiting as AwaitingSession {
                    // Nothing can be sealed before the session exists: this one and the rest wait.
                    let next = await reschedule(entry, error: "\(reason); \(waiting.reason)")
                    await depositor.close(batch)
                    return [earliest, next].compactMap { $0 }.min()
                }
                guard let envelope else { continue }
                let remaining = entry.message.expiresAt.map { $0.timeIntervalSince(account.now()) } ?? RetryPolicy.seconds(account.messageTTL)
                var outcome = await depositor.deposit(
                    envelope, ttlSeconds: UInt64(max(1, remaining.rounded(.up))), in: batch, attachment: attachmentBlocks(of: entry.message))
                if let storacha, let spaces {  // Storacha hook: then the recipient's spaces, up to k in all
                    await storacha.deposit(envelope, in: spaces, wanted: wanted, into: &outcome)
                }
                let refusals = outcome.refusals.isEmpty ? nil : "mailbox refused: " + outcome.refusals.joined(separator: "; ")
                guard outcome.copies > 0 else {
                    let next = await reschedule(entry, error: "\(reason); \(refusals ?? "no mailbox accepted it")")
                    await depositor.close(batch)
                    return [earliest, next].compactMap { $0 }.min()
                }
                let message = entry.message
                let state: MessageState = message.kind.isVisible ? .stored(copies: outcome.copies, total: outcome.total) : .delivered
                try await account.database.markState(messageID: message.id, state: state, error: refusals, now: account.now())
                if state.isPending {
                    let next = await reschedule(entry, error: refusals ?? reason, quietly: true)
                    if let next { earliest = min(earliest ?? next, next) }
                }
            }
        } catch is CancellationError {
        } catch {
            logger.warning("mailbox deposit failed", metadata: ["contact": "\(contact.displayName)", "reason": "\(error)"])
            earliest = await reschedule(queue[0], error: "\(reason); \(Self.describe(error))")
        }
        await depositor.close(batch)
        return earliest
    }

    /// The DAG to deposit with an attachment message (nil for other kinds, or when its body
    /// or our block store cannot be read: the envelope still goes).
    private func attachmentBlocks(of message: ChatMessage) -> MailboxDepositor.Attachment? {
        guard message.kind == .attachment else { return nil }
        do {
            let content = try AttachmentContent(parsing: message.body)
            return .init(root: try CID(parsing: content.cid), blockstore: try account.attachmentStorage.blockstore(logger: logger))
        } catch {
            logger.notice("attachment blocks not deposited", metadata: ["message": "\(message.id)", "reason": "\(error)"])
            return nil
        }
    }

    private func fail(_ id: MessageID, _ reason: FailureReason, _ error: String) async throws {
        try await account.database.markState(messageID: id, state: .failed(reason), error: error, now: account.now())
    }

    private func reschedule(_ entry: OutboxEntry, error: String, quietly: Bool = false) async -> Date? {
        let delay = random.withLock { generator in
            configuration.retryPolicy.delay(afterFailedAttempts: entry.attempts + 1, using: &generator)
        }
        let next = account.now().addingTimeInterval(RetryPolicy.seconds(delay))
        do {
            try await account.database.markAttempt(messageID: entry.message.id, nextAttemptAt: next, error: error)
        } catch {
            logger.warning("cannot reschedule", metadata: ["message": "\(entry.message.id)", "reason": "\(error)"])
        }
        if !quietly {
            logger.info("delivery deferred", metadata: ["message": "\(entry.message.id)", "retry-in": "\(delay)", "reason": "\(error)"])
        }
        return next
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ChatNodeError { return error.message }
        if let error = error as? LibP2PError { return error.message }
        return "\(error)"
    }

    /// Sealing must wait: the contact has no session yet. That happens to a contact made from a
    /// peer's session request when the node stopped after storing the contact and before storing
    /// the session; the peer resends that first message until it is acknowledged, which starts
    /// the session and wakes the engine (`InboundProcessor`). Until then the contact's queue
    /// stays queued, in order, retried with backoff; it is not a failure.
    struct AwaitingSession: Error {
        var reason: String
    }
}
