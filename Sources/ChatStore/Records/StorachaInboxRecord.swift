import Foundation
import GRDB

/// A contact's Storacha space that we may deposit in when the contact is offline (one of its
/// mailboxes, of the "storacha space" kind): the delegation the contact issued to the deposit
/// key it gave us (we sign deposits with that key, never with our identity), the tag to prefix
/// deposits with, and the service to use (JSON, ChatNode's format).
public struct StorachaInboxRecord: Hashable, Sendable {
    /// The contact who owns the space.
    public var contactID: ContactID
    /// The space DID.
    public var space: String
    /// Our deposit tag there (16 bytes).
    public var tag: Data
    /// The deposit key (ChatNode's versioned signer bytes; secret); `nil` in rows from before
    /// deposit keys, which cannot deposit until the contact grants again.
    public var depositKey: Data?
    /// The delegation archive (CAR) from the contact to the deposit key.
    public var delegation: Data
    /// The service endpoint as JSON (URL, DID, gateway).
    public var endpoint: String
    /// When the delegation expires, if ever.
    public var expiresAt: Date?
    /// When it was received.
    public var receivedAt: Date
}

extension StorachaInboxRecord: FetchableRecord {
    /// Decodes a `storacha_inboxes` row.
    public init(row: Row) throws {
        contactID = try row.decode(forColumn: "contact_id")
        space = try row.decode(forColumn: "space")
        tag = try row.decode(forColumn: "tag")
        depositKey = try row.decode(Data?.self, forColumn: "deposit_key")
        delegation = try row.decode(forColumn: "delegation")
        endpoint = try row.decode(forColumn: "endpoint")
        expiresAt = try row.decode(Int64?.self, forColumn: "expires_at").map(Date.init(millisecondsSince1970:))
        receivedAt = Date(millisecondsSince1970: try row.decode(forColumn: "received_at"))
    }
}
