import Foundation
import GRDB

/// Deposit rights on one of our Storacha spaces that we give a contact (`p2pchat storacha
/// delegate`): re-issued before `expiresAt` while not revoked. `tag` is the random per-contact
/// value the contact prefixes its deposits with, so a drain knows whose session opens them;
/// `depositKey` is the random key the delegation is for (never the contact's identity).
public struct StorachaGrantRecord: Hashable, Sendable {
    /// The contact the rights are for.
    public var contactID: ContactID
    /// The space DID.
    public var space: String
    /// The contact's deposit tag (16 bytes).
    public var tag: Data
    /// The contact's deposit key (ChatNode's versioned signer bytes; secret); `nil` in rows
    /// from before deposit keys, which get one at their next issue.
    public var depositKey: Data?
    /// How long each issued delegation lives, in seconds.
    public var lifetimeSeconds: Int64
    /// When the last issued delegation expires.
    public var expiresAt: Date
    /// When it was revoked (no more renewals), if it was.
    public var revokedAt: Date?
    /// When the last delegation was issued.
    public var issuedAt: Date
}

extension StorachaGrantRecord: FetchableRecord {
    /// Decodes a `storacha_grants` row.
    public init(row: Row) throws {
        contactID = try row.decode(forColumn: "contact_id")
        space = try row.decode(forColumn: "space")
        tag = try row.decode(forColumn: "tag")
        depositKey = try row.decode(Data?.self, forColumn: "deposit_key")
        lifetimeSeconds = try row.decode(forColumn: "lifetime_seconds")
        expiresAt = Date(millisecondsSince1970: try row.decode(forColumn: "expires_at"))
        revokedAt = try row.decode(Int64?.self, forColumn: "revoked_at").map(Date.init(millisecondsSince1970:))
        issuedAt = Date(millisecondsSince1970: try row.decode(forColumn: "issued_at"))
    }
}
