import Foundation
import GRDB

extension ChatDatabase {
    /// Full-text search over message bodies: every word must match (as a word prefix,
    /// case- and diacritic-insensitively), best bm25 match first, with a snippet.
    ///
    /// Safe for any input: quotes, FTS operators and punctuation are matched as text, never
    /// interpreted (see `SearchQuery`). Input without a letter or digit returns no hits.
    public func search(words: String, contactID: ContactID? = nil, limit: Int = 50) async throws -> [MessageHit] {
        guard (1...Self.maximumPageSize).contains(limit) else {
            throw ChatStoreError(.invalidArgument, "result limit must be 1–\(Self.maximumPageSize), got \(limit)")
        }
        guard let query = SearchQuery(words: words) else { return [] }
        return try await read { db in
            var sql = """
                SELECT messages.id, messages.conversation_id, messages.direction, messages.sent_at,
                       conversations.contact_id,
                       snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet,
                       bm25(messages_fts) AS score
                FROM messages_fts
                JOIN messages ON messages.row_id = messages_fts.rowid
                JOIN conversations ON conversations.id = messages.conversation_id
                WHERE messages_fts MATCH ?
                """
            var arguments: StatementArguments = [query.expression]
            if let contactID {
                sql += " AND conversations.contact_id = ?"
                arguments += [contactID]
            }
            sql += " ORDER BY score, messages.sent_at DESC LIMIT ?"
            arguments += [limit]
            return try MessageHit.fetchAll(db, sql: sql, arguments: arguments)
        }
    }
}
