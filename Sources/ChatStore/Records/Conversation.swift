import Foundation
import GRDB

/// A conversation: a 1:1 chat with a contact today (groups later share the table).
public struct Conversation: Hashable, Sendable, Identifiable {
    /// The 16-byte id.
    public var id: ConversationID
    /// The contact of a 1:1 conversation.
    public var contactID: ContactID?
    /// The sequence number our next outgoing message gets.
    public var nextOutgoingSeq: Int64
    /// The highest incoming sequence number the user has read.
    public var lastReadSeq: Int64
    /// When it was created.
    public var createdAt: Date
}

extension Conversation: FetchableRecord {
    /// Decodes a `conversations` row.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        contactID = try row.decode(forColumn: "contact_id")
        nextOutgoingSeq = try row.decode(forColumn: "next_out_seq")
        lastReadSeq = try row.decode(forColumn: "last_read_seq")
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
    }
}
