import Foundation
import GRDB

/// A Storacha space this user drains (`p2pchat storacha space add`): the space's DID and the
/// delegation archive (CAR bytes, Storacha's `ucan@0.9.1` form) that lets our did:key act on it.
/// ChatStore keeps the bytes opaque; ChatNode/Storacha parses and verifies them.
public struct StorachaSpaceRecord: Hashable, Sendable {
    /// The space DID (`did:key:z…`).
    public var space: String
    /// The delegation archive from the space (or its owner) to us.
    public var delegation: Data
    /// When that delegation expires, if ever.
    public var expiresAt: Date?
    /// When it was added.
    public var addedAt: Date
}

extension StorachaSpaceRecord: FetchableRecord {
    /// Decodes a `storacha_spaces` row.
    public init(row: Row) throws {
        space = try row.decode(forColumn: "space")
        delegation = try row.decode(forColumn: "delegation")
        expiresAt = try row.decode(Int64?.self, forColumn: "expires_at").map(Date.init(millisecondsSince1970:))
        addedAt = Date(millisecondsSince1970: try row.decode(forColumn: "added_at"))
    }
}
