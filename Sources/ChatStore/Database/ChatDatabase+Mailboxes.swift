import Foundation
import GRDB

extension ChatDatabase {
    // MARK: Mailboxes

    /// Records a mailbox we receive at; adding one that is known changes nothing.
    ///
    /// - Returns: whether it was new.
    @discardableResult
    public func addMailbox(address: String, now: Date = Date()) async throws -> Bool {
        guard !address.isEmpty, address.utf8.count <= 1024 else {
            throw ChatStoreError(.invalidArgument, "mailbox address must be 1–1024 bytes")
        }
        return try await write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO mailboxes (address, added_at) VALUES (?, ?)",
                           arguments: [address, now.millisecondsSince1970])
            return db.changesCount == 1
        }
    }

    /// The mailboxes we receive at, oldest first.
    public func mailboxes() async throws -> [MailboxRecord] {
        try await read { db in
            try MailboxRecord.fetchAll(db, sql: "SELECT * FROM mailboxes ORDER BY added_at, address")
        }
    }

    /// Forgets a mailbox and its queues; returns the queues it had (to delete them there).
    ///
    /// - Throws: `.notFound` when it is not one of ours.
    public func removeMailbox(address: String) async throws -> [MailboxQueueRecord] {
        try await write { db in
            let queues = try MailboxQueueRecord.fetchAll(db, sql: "SELECT * FROM mailbox_queues WHERE mailbox = ?", arguments: [address])
            try db.execute(sql: "DELETE FROM mailboxes WHERE address = ?", arguments: [address])
            guard db.changesCount == 1 else { throw ChatStoreError(.notFound, "no mailbox \(address)") }
            return queues
        }
    }

    /// Sets (or clears, with `nil`) the push endpoint registered for our queues at `address`.
    public func setMailboxPushEndpoint(address: String, endpoint: String?) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE mailboxes SET push_endpoint = ? WHERE address = ?", arguments: [endpoint, address])
            guard db.changesCount == 1 else { throw ChatStoreError(.notFound, "no mailbox \(address)") }
        }
    }

    // MARK: Queues

    /// Stores a queue created at `mailbox`, for `contactID` (or unclaimed, for an invite).
    ///
    /// - Throws: `.notFound` for an unknown mailbox or contact.
    @discardableResult
    public func addMailboxQueue(
        mailbox: String, queueID: Data, contactID: ContactID?, credentials: Data, announced: Bool, now: Date = Date()
    ) async throws -> MailboxQueueRecord {
        try await write { db in
            guard try Int64.fetchOne(db, sql: "SELECT 1 FROM mailboxes WHERE address = ?", arguments: [mailbox]) != nil else {
                throw ChatStoreError(.notFound, "no mailbox \(mailbox)")
            }
            if let contactID { _ = try Self.fetchContact(db, contactID) }
            try db.execute(sql: """
                INSERT INTO mailbox_queues (mailbox, queue_id, contact_id, credentials, announced, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [mailbox, queueID, contactID, credentials, announced ? 1 : 0, now.millisecondsSince1970])
            let id = db.lastInsertedRowID
            return try MailboxQueueRecord.fetchOne(db, sql: "SELECT * FROM mailbox_queues WHERE id = ?", arguments: [id])!
        }
    }

    /// All our queues, oldest first.
    public func mailboxQueues() async throws -> [MailboxQueueRecord] {
        try await read { db in
            try MailboxQueueRecord.fetchAll(db, sql: "SELECT * FROM mailbox_queues ORDER BY id")
        }
    }

    /// The queues a contact deposits in, oldest first.
    public func mailboxQueues(contactID: ContactID) async throws -> [MailboxQueueRecord] {
        try await read { db in
            try MailboxQueueRecord.fetchAll(db, sql: "SELECT * FROM mailbox_queues WHERE contact_id = ? ORDER BY id", arguments: [contactID])
        }
    }

    /// Gives an unclaimed (invite) queue to `contactID`.
    ///
    /// - Returns: whether it was unclaimed and is now the contact's.
    @discardableResult
    public func claimMailboxQueue(queueID: Data, contactID: ContactID) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE mailbox_queues SET contact_id = ?, announced = 1 WHERE queue_id = ? AND contact_id IS NULL",
                           arguments: [contactID, queueID])
            return db.changesCount == 1
        }
    }

    /// Marks all of a contact's queues as announced to it.
    public func markMailboxQueuesAnnounced(contactID: ContactID) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE mailbox_queues SET announced = 1 WHERE contact_id = ?", arguments: [contactID])
        }
    }

    /// Deletes one queue record.
    public func deleteMailboxQueue(id: Int64) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM mailbox_queues WHERE id = ?", arguments: [id])
        }
    }

    // MARK: Session replacement

    /// Drops the sealed envelopes of the contact's messages that the contact has not accepted
    /// yet (`queued` or `stored`), and makes them `queued` and due now, so they are sealed
    /// again under the current session. For when a session is replaced (two people added each
    /// other at once and the other one's session won): envelopes sealed under the old session
    /// cannot be opened any more. `commitSealed` refuses a second seal otherwise.
    ///
    /// - Returns: how many messages were reset.
    @discardableResult
    public func resetUndeliveredEnvelopes(contactID: ContactID, now: Date = Date()) async throws -> Int {
        try await write { db in
            let nowMS = now.millisecondsSince1970
            let ids = try MessageID.fetchAll(db, sql: """
                SELECT outbox.message_id FROM outbox JOIN messages ON messages.id = outbox.message_id
                WHERE outbox.contact_id = ? AND outbox.envelope IS NOT NULL AND messages.state IN ('queued', 'stored')
                """, arguments: [contactID])
            for id in ids {
                try db.execute(sql: "UPDATE outbox SET envelope = NULL, next_attempt_at = ? WHERE message_id = ?", arguments: [nowMS, id])
                try db.execute(sql: """
                    UPDATE messages SET state = 'queued', stored_copies = NULL, stored_total = NULL, state_changed_at = ?,
                                        next_attempt_at = ? WHERE id = ?
                    """, arguments: [nowMS, nowMS, id])
            }
            return ids.count
        }
    }
}
