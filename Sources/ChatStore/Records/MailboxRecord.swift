import Foundation
import GRDB

/// A mailbox this user receives at (`p2pchat mailbox use`).
public struct MailboxRecord: Hashable, Sendable {
    /// The mailbox's multiaddr text, ending in `/p2p/<mailbox peer id>`.
    public var address: String
    /// The UnifiedPush-style endpoint registered for our queues there, if any.
    public var pushEndpoint: String?
    /// When it was added.
    public var addedAt: Date
}

extension MailboxRecord: FetchableRecord {
    /// Decodes a `mailboxes` row.
    public init(row: Row) throws {
        address = try row.decode(forColumn: "address")
        pushEndpoint = try row.decode(forColumn: "push_endpoint")
        addedAt = Date(millisecondsSince1970: try row.decode(forColumn: "added_at"))
    }
}
