import Foundation
import GRDB

/// One of our queues on a mailbox: one per contact per mailbox (so the mailbox cannot link our
/// contacts), or a queue handed out in an invite and not yet claimed (`contactID == nil`).
public struct MailboxQueueRecord: Hashable, Sendable, Identifiable {
    /// The local row id.
    public var id: Int64
    /// The mailbox's multiaddr text (a `MailboxRecord.address`).
    public var mailbox: String
    /// The queue's id at the mailbox (unique).
    public var queueID: Data
    /// The contact who deposits here; `nil` for an invite queue nobody claimed yet.
    public var contactID: ContactID?
    /// The queue credentials (Mailbox's encoding; holds both private keys).
    public var credentials: Data
    /// Whether the contact was told this queue's address (in an invite or the session).
    public var announced: Bool
    /// When it was created.
    public var createdAt: Date
}

extension MailboxQueueRecord: FetchableRecord {
    /// Decodes a `mailbox_queues` row.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        mailbox = try row.decode(forColumn: "mailbox")
        queueID = try row.decode(forColumn: "queue_id")
        contactID = try row.decode(forColumn: "contact_id")
        credentials = try row.decode(forColumn: "credentials")
        announced = try row.decode(Int.self, forColumn: "announced") != 0
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
    }
}
