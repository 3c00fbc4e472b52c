import Foundation
import GRDB

extension ChatDatabase {
    /// The most attachment records one query returns.
    public static let maximumAttachmentBatch = 1000

    /// Stores an attachment record for an existing message; a record already stored for that
    /// message is kept as it is. Returns whether this call stored it.
    ///
    /// - Throws: `.notFound` when the message does not exist.
    @discardableResult
    public func saveAttachment(_ record: AttachmentRecord) async throws -> Bool {
        try await write { db in
            guard try Int64.fetchOne(db, sql: "SELECT 1 FROM messages WHERE id = ?", arguments: [record.messageID]) != nil else {
                throw ChatStoreError(.notFound, "no message \(record.messageID) for an attachment")
            }
            try db.execute(sql: """
                INSERT OR IGNORE INTO attachments (message_id, direction, cid, key, name, size, media_type, state, failure,
                                                   local_path, bytes_done, bytes_total, attempts, next_attempt_at,
                                                   created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.messageID, record.direction.rawValue, record.cid, record.key, record.name, record.size,
                                 record.mediaType, record.state.name, record.state.failure, record.localPath, record.bytesDone,
                                 record.bytesTotal, record.attempts, record.nextAttemptAt?.millisecondsSince1970,
                                 record.createdAt.millisecondsSince1970, record.updatedAt.millisecondsSince1970])
            return db.changesCount > 0
        }
    }

    /// The attachment of a message, if it has one.
    public func attachment(messageID: MessageID) async throws -> AttachmentRecord? {
        try await read { db in
            try AttachmentRecord.fetchOne(db, sql: "SELECT * FROM attachments WHERE message_id = ?", arguments: [messageID])
        }
    }

    /// Received attachments to fetch at `now`: `pending` and `fetching` ones (a fetch that a
    /// stopped node left behind), and `failed` ones whose next attempt is due; oldest first.
    public func dueAttachments(now: Date, limit: Int = ChatDatabase.maximumAttachmentBatch) async throws -> [AttachmentRecord] {
        let limit = min(max(limit, 0), Self.maximumAttachmentBatch)
        return try await read { db in
            try AttachmentRecord.fetchAll(db, sql: """
                SELECT * FROM attachments
                WHERE direction = 'in'
                  AND (state IN ('pending', 'fetching') OR (state = 'failed' AND next_attempt_at <= ?))
                ORDER BY created_at, message_id LIMIT ?
                """, arguments: [now.millisecondsSince1970, limit])
        }
    }

    /// When the earliest failed received attachment is due again, if any is retried.
    public func nextAttachmentAttempt() async throws -> Date? {
        try await read { db in
            try Int64.fetchOne(db, sql: """
                SELECT min(next_attempt_at) FROM attachments WHERE direction = 'in' AND state = 'failed'
                """).map(Date.init(millisecondsSince1970:))
        }
    }

    /// Incoming messages of `kind` that have no attachment record yet (oldest first), so a node
    /// that stopped between storing a message and its record catches up.
    public func messagesWithoutAttachment(kind: MessageKind, limit: Int = ChatDatabase.maximumAttachmentBatch) async throws -> [ChatMessage] {
        let limit = min(max(limit, 0), Self.maximumAttachmentBatch)
        return try await read { db in
            try ChatMessage.fetchAll(db, sql: """
                SELECT m.* FROM messages m LEFT JOIN attachments a ON a.message_id = m.id
                WHERE m.kind = ? AND m.direction = 'in' AND a.message_id IS NULL
                ORDER BY m.row_id LIMIT ?
                """, arguments: [kind.rawValue, limit])
        }
    }

    /// Moves an attachment to `state`. `localPath` replaces the stored path when given;
    /// `countsAttempt` adds one to the attempts; `nextAttemptAt` is stored as given (set it
    /// only for a failure that is retried). `done` also completes the progress.
    ///
    /// - Throws: `.notFound` when there is no such record.
    public func setAttachmentState(
        messageID: MessageID, _ state: AttachmentState, localPath: String? = nil, countsAttempt: Bool = false,
        nextAttemptAt: Date? = nil, now: Date = Date()
    ) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE attachments SET state = ?, failure = ?, local_path = coalesce(?, local_path),
                    attempts = attempts + ?, next_attempt_at = ?, updated_at = ?,
                    bytes_done = CASE WHEN ? THEN bytes_total ELSE bytes_done END
                WHERE message_id = ?
                """, arguments: [state.name, state.failure, localPath, countsAttempt ? 1 : 0,
                                 nextAttemptAt?.millisecondsSince1970, now.millisecondsSince1970, state == .done, messageID])
            guard db.changesCount > 0 else {
                throw ChatStoreError(.notFound, "no attachment for message \(messageID)")
            }
        }
    }

    /// Records fetch progress: `done` of `total` bytes.
    public func setAttachmentProgress(messageID: MessageID, done: Int64, total: Int64, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE attachments SET bytes_done = ?, bytes_total = ?, updated_at = ? WHERE message_id = ?
                """, arguments: [max(0, done), max(0, total), now.millisecondsSince1970, messageID])
        }
    }
}
