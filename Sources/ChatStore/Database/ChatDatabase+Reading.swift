import Foundation
import GRDB

extension ChatDatabase {
    /// The largest page `messages` returns.
    public static let maximumPageSize = 1000

    /// A page of the conversation with `contactID`, oldest first, ordered by (sent-at, seq):
    /// the `limit` messages just before `before` (or the latest ones when `before` is `nil`).
    public func messages(contactID: ContactID, limit: Int = 50, before: MessageID? = nil) async throws -> [ChatMessage] {
        try await read { db in
            let conversationID = try Self.directConversationID(db, contactID: contactID)
            return try Self.page(db, conversationID: conversationID, limit: limit, before: before)
        }
    }

    /// A page of conversation `conversationID`, as `messages(contactID:limit:before:)`.
    public func messages(conversationID: ConversationID, limit: Int = 50, before: MessageID? = nil) async throws -> [ChatMessage] {
        try await read { db in
            try Self.page(db, conversationID: conversationID, limit: limit, before: before)
        }
    }

    /// The message with `id`, if any.
    public func message(id: MessageID) async throws -> ChatMessage? {
        try await read { db in
            try ChatMessage.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [id])
        }
    }

    /// The 1:1 conversation with `contactID`.
    ///
    /// - Throws: `.notFound` for an unknown contact.
    public func conversation(contactID: ContactID) async throws -> Conversation {
        try await read { db in
            let id = try Self.directConversationID(db, contactID: contactID)
            guard let conversation = try Conversation.fetchOne(db, sql: "SELECT * FROM conversations WHERE id = ?", arguments: [id]) else {
                throw ChatStoreError(.notFound, "no conversation \(id)")
            }
            return conversation
        }
    }

    /// Marks the incoming messages from `contactID` read, up to sequence number `upTo` (all when
    /// `nil`), and returns the ones that changed, oldest first, so the node can send read
    /// receipts for exactly those.
    @discardableResult
    public func markRead(contactID: ContactID, upTo: Int64? = nil, now: Date = Date()) async throws -> [MessageID] {
        try await write { db in
            let conversationID = try Self.directConversationID(db, contactID: contactID)
            let limit = upTo ?? Int64.max
            let ids = try MessageID.fetchAll(db, sql: """
                SELECT id FROM messages
                WHERE conversation_id = ? AND direction = 'in' AND state = 'delivered' AND seq <= ?
                ORDER BY seq
                """, arguments: [conversationID, limit])
            try db.execute(sql: """
                UPDATE messages SET state = 'read', state_changed_at = ?
                WHERE conversation_id = ? AND direction = 'in' AND state = 'delivered' AND seq <= ?
                """, arguments: [now.millisecondsSince1970, conversationID, limit])
            try db.execute(sql: """
                UPDATE conversations
                SET last_read_seq = max(last_read_seq, coalesce((SELECT max(seq) FROM messages
                    WHERE conversation_id = ?1 AND direction = 'in' AND state = 'read'), 0))
                WHERE id = ?1
                """, arguments: [conversationID])
            return ids
        }
    }

    /// How many incoming messages from `contactID` are not read yet.
    public func unreadCount(contactID: ContactID) async throws -> Int {
        try await read { db in
            let conversationID = try Self.directConversationID(db, contactID: contactID)
            return try Int.fetchOne(db, sql: """
                SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'in' AND state = 'delivered'
                """, arguments: [conversationID]) ?? 0
        }
    }

    /// How many messages wait in the outbox, by state (the offline queue's summary); states
    /// with no messages are absent.
    public func outboxCounts() async throws -> [MessageState.Kind: Int] {
        try await read { db in try Self.outboxCounts(db) }
    }

    static func outboxCounts(_ db: Database) throws -> [MessageState.Kind: Int] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT messages.state AS state, count(*) AS n FROM outbox JOIN messages ON messages.id = outbox.message_id
            GROUP BY messages.state
            """)
        var counts: [MessageState.Kind: Int] = [:]
        for row in rows {
            let name: String = try row.decode(forColumn: "state")
            guard let kind = MessageState.Kind(rawValue: name) else {
                throw ChatStoreError(.corruptRecord, "unknown message state \(name)")
            }
            counts[kind] = try row.decode(forColumn: "n")
        }
        return counts
    }

    static func page(_ db: Database, conversationID: ConversationID, limit: Int, before: MessageID?) throws -> [ChatMessage] {
        guard (1...maximumPageSize).contains(limit) else {
            throw ChatStoreError(.invalidArgument, "page size must be 1–\(maximumPageSize), got \(limit)")
        }
        var sql = "SELECT * FROM messages WHERE conversation_id = ?"
        var arguments: StatementArguments = [conversationID]
        if let before {
            guard let cursor = try Row.fetchOne(db, sql: """
                SELECT sent_at, seq, row_id FROM messages WHERE id = ? AND conversation_id = ?
                """, arguments: [before, conversationID]) else {
                throw ChatStoreError(.notFound, "no message \(before) in conversation \(conversationID)")
            }
            sql += " AND (sent_at, seq, row_id) < (?, ?, ?)"
            arguments += [cursor["sent_at"], cursor["seq"], cursor["row_id"]]
        }
        sql += " ORDER BY sent_at DESC, seq DESC, row_id DESC LIMIT ?"
        arguments += [limit]
        return try ChatMessage.fetchAll(db, sql: sql, arguments: arguments).reversed()
    }
}
