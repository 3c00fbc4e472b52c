import Foundation
import GRDB

/// A full-text search result.
public struct MessageHit: Hashable, Sendable {
    /// The matching message.
    public var messageID: MessageID
    /// Its conversation.
    public var conversationID: ConversationID
    /// The conversation's contact (1:1).
    public var contactID: ContactID?
    /// Whether we sent or received it.
    public var direction: MessageDirection
    /// When it was sent.
    public var sentAt: Date
    /// An excerpt with the matches between `[` and `]`.
    public var snippet: String
    /// The bm25 score: lower is a better match (SQLite's convention); results come best first.
    public var score: Double
}

extension MessageHit: FetchableRecord {
    /// Decodes the search query's row.
    public init(row: Row) throws {
        messageID = try row.decode(forColumn: "id")
        conversationID = try row.decode(forColumn: "conversation_id")
        contactID = try row.decode(forColumn: "contact_id")
        let directionText: String = try row.decode(forColumn: "direction")
        guard let direction = MessageDirection(rawValue: directionText) else {
            throw ChatStoreError(.corruptRecord, "unknown message direction \(directionText)")
        }
        self.direction = direction
        sentAt = Date(millisecondsSince1970: try row.decode(forColumn: "sent_at"))
        snippet = try row.decode(forColumn: "snippet")
        score = try row.decode(forColumn: "score")
    }
}
