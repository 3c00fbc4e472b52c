import Foundation
import GRDB

extension ChatDatabase {
    /// The default time-to-live of an outgoing message (ARCHITECTURE.md §Mailboxes: 14 days).
    public static let defaultTTL: Duration = .seconds(14 * 24 * 3600)

    /// Queues a message to `contactID`: assigns a fresh message id and the conversation's next
    /// sequence number, and writes the message (state `queued`) and its outbox entry (due `now`,
    /// not yet sealed) in one transaction (ARCHITECTURE.md §Delivery step 1).
    ///
    /// The returned `OutgoingMessage` is the proof that the message is durable; `send` returns
    /// to the user only after this call.
    ///
    /// - Throws: `.notFound` for an unknown contact.
    public func enqueueOutgoing(
        contactID: ContactID,
        body: String,
        kind: MessageKind = .text,
        replyTo: MessageID? = nil,
        now: Date = Date(),
        ttl: Duration = ChatDatabase.defaultTTL
    ) async throws -> OutgoingMessage {
        let id = MessageID.random()
        let nowMS = now.millisecondsSince1970
        let expiresMS = nowMS + ttl.wholeMilliseconds
        return try await write { db in
            let conversationID = try Self.directConversationID(db, contactID: contactID)
            guard let seq = try Int64.fetchOne(db, sql: """
                UPDATE conversations SET next_out_seq = next_out_seq + 1 WHERE id = ? RETURNING next_out_seq - 1
                """, arguments: [conversationID]) else {
                throw ChatStoreError(.notFound, "no conversation for contact \(contactID)")
            }
            try db.execute(sql: """
                INSERT INTO messages (id, conversation_id, direction, sender_contact_id, seq, body, kind, reply_to,
                                      sent_at, state, state_changed_at, attempts, next_attempt_at, expires_at)
                VALUES (?, ?, 'out', NULL, ?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?)
                """, arguments: [id, conversationID, seq, body, kind.rawValue, replyTo, nowMS, nowMS, nowMS, expiresMS])
            try db.execute(sql: """
                INSERT INTO outbox (message_id, contact_id, envelope, next_attempt_at, attempts, created_at)
                VALUES (?, ?, NULL, ?, 0, ?)
                """, arguments: [id, contactID, nowMS, nowMS])
            return OutgoingMessage(message: try Self.fetchMessage(db, id), contactID: contactID)
        }
    }

    /// Stores the sealed envelope of a queued message and the session state that sealing
    /// produced, in one transaction: either both commit or neither does, so a crash can never
    /// leave an envelope whose ratchet step is lost, or a ratchet step without its envelope.
    ///
    /// - Returns: the new session version.
    /// - Throws: `.alreadySealed` when the message already has an envelope (it must be resent as
    ///   is, never re-sealed); `.sessionConflict`; `.notFound` when the message is not in the
    ///   outbox (delivered, failed or unknown) or belongs to another contact.
    @discardableResult
    public func commitSealed(
        messageID: MessageID,
        envelope: Data,
        contactID: ContactID,
        sessionState: Data,
        expectedSessionVersion: Int64?,
        now: Date = Date()
    ) async throws -> Int64 {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT contact_id, envelope FROM outbox WHERE message_id = ?", arguments: [messageID]) else {
                throw ChatStoreError(.notFound, "message \(messageID) is not in the outbox")
            }
            guard try row.decode(ContactID.self, forColumn: "contact_id") == contactID else {
                throw ChatStoreError(.notFound, "message \(messageID) is not addressed to contact \(contactID)")
            }
            guard try row.decode(Data?.self, forColumn: "envelope") == nil else {
                throw ChatStoreError(.alreadySealed, "message \(messageID) is already sealed; resend the stored envelope")
            }
            let version = try Self.saveSession(db, contactID: contactID, state: sessionState, expectedVersion: expectedSessionVersion, now: now)
            try db.execute(sql: "UPDATE outbox SET envelope = ? WHERE message_id = ?", arguments: [envelope, messageID])
            return version
        }
    }

    /// Outbox entries due at `now`, earliest due first (ties in queueing order), at most `limit`.
    public func dueOutbox(now: Date = Date(), limit: Int = 100) async throws -> [OutboxEntry] {
        try await read { db in
            try OutboxEntry.fetchAll(db, sql: OutboxEntry.selectSQL + """
                 WHERE outbox.next_attempt_at <= ? ORDER BY outbox.next_attempt_at, messages.row_id LIMIT ?
                """, arguments: [now.millisecondsSince1970, max(0, limit)])
        }
    }

    /// When the earliest outbox entry is due, or `nil` when the outbox is empty (for the
    /// delivery engine's timer).
    public func nextOutboxDue() async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM outbox").map(Date.init(millisecondsSince1970:))
        }
    }

    /// Records a delivery attempt: increments the attempt count and reschedules the entry (the
    /// caller computes backoff with jitter). `error` is kept for display.
    ///
    /// - Throws: `.notFound` when the message is not in the outbox.
    public func markAttempt(messageID: MessageID, nextAttemptAt: Date, error: String? = nil) async throws {
        try await write { db in
            let next = nextAttemptAt.millisecondsSince1970
            try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE message_id = ?",
                           arguments: [next, messageID])
            guard db.changesCount == 1 else {
                throw ChatStoreError(.notFound, "message \(messageID) is not in the outbox")
            }
            try db.execute(sql: "UPDATE messages SET attempts = attempts + 1, next_attempt_at = ?, error = coalesce(?, error) WHERE id = ?",
                           arguments: [next, error, messageID])
        }
    }

    /// Moves a message to `state` if that is progress (`MessageState.canAdvance(to:)`), and
    /// removes it from the outbox once it is no longer pending (delivered, read, failed).
    ///
    /// - Returns: whether the state changed; a stale or backward update is ignored, not an error
    ///   (a late `sent` after `delivered` is normal on a network).
    /// - Throws: `.notFound` for an unknown message.
    @discardableResult
    public func markState(messageID: MessageID, state: MessageState, error: String? = nil, now: Date = Date()) async throws -> Bool {
        try await write { db in
            try Self.advance(db, messageID: messageID, to: state, error: error, now: now)
        }
    }

    /// Records an end-to-end receipt for one of our messages and advances its state, in one
    /// transaction.
    ///
    /// - Returns: whether the message's state changed.
    /// - Throws: `.notFound` for an unknown message; `.invalidArgument` for an incoming one.
    @discardableResult
    public func recordReceipt(messageID: MessageID, kind: ReceiptKind, at: Date, now: Date = Date()) async throws -> Bool {
        try await write { db in
            let direction = try String.fetchOne(db, sql: "SELECT direction FROM messages WHERE id = ?", arguments: [messageID])
            guard let direction else { throw ChatStoreError(.notFound, "no message \(messageID)") }
            guard direction == MessageDirection.outgoing.rawValue else {
                throw ChatStoreError(.invalidArgument, "receipt for message \(messageID), which we did not send")
            }
            try db.execute(sql: "INSERT OR IGNORE INTO receipts (message_id, kind, at) VALUES (?, ?, ?)",
                           arguments: [messageID, kind.rawValue, at.millisecondsSince1970])
            return try Self.advance(db, messageID: messageID, to: kind.state, error: nil, now: now)
        }
    }

    /// The receipts recorded for a message.
    public func receipts(messageID: MessageID) async throws -> [Receipt] {
        try await read { db in
            try Receipt.fetchAll(db, sql: "SELECT * FROM receipts WHERE message_id = ? ORDER BY at", arguments: [messageID])
        }
    }

    /// Fails every pending outgoing message whose TTL passed with `.failed(.expired)` and
    /// removes it from the outbox; returns their ids.
    public func expireOverdue(now: Date = Date()) async throws -> [MessageID] {
        try await write { db in
            let ids = try MessageID.fetchAll(db, sql: """
                SELECT id FROM messages
                WHERE direction = 'out' AND state IN ('queued', 'sent', 'stored') AND expires_at <= ?
                ORDER BY row_id
                """, arguments: [now.millisecondsSince1970])
            for id in ids {
                _ = try Self.advance(db, messageID: id, to: .failed(.expired), error: "not delivered before its time-to-live", now: now)
            }
            return ids
        }
    }

    /// The state transition inside an open transaction.
    static func advance(_ db: Database, messageID: MessageID, to next: MessageState, error: String?, now: Date) throws -> Bool {
        let current = try fetchMessage(db, messageID).state
        guard current.canAdvance(to: next) else { return false }
        let columns = next.columns
        try db.execute(sql: """
            UPDATE messages SET state = ?, stored_copies = ?, stored_total = ?, failure_reason = ?, state_changed_at = ?,
                                error = coalesce(?, error), next_attempt_at = CASE WHEN ? THEN next_attempt_at ELSE NULL END
            WHERE id = ?
            """, arguments: [columns.state, columns.copies, columns.total, columns.reason, now.millisecondsSince1970,
                             error, next.isPending, messageID])
        if !next.isPending {
            try db.execute(sql: "DELETE FROM outbox WHERE message_id = ?", arguments: [messageID])
        }
        return true
    }

    /// The message with `id` inside a transaction, or `.notFound`.
    static func fetchMessage(_ db: Database, _ id: MessageID) throws -> ChatMessage {
        guard let message = try ChatMessage.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id]) else {
            throw ChatStoreError(.notFound, "no message \(id)")
        }
        return message
    }
}
