import Foundation
import GRDB

extension ChatDatabase {
    // MARK: Storacha endpoint

    /// The Storacha service endpoint chosen with `p2pchat storacha config` (JSON, ChatNode's
    /// format), or `nil` for the default.
    public func storachaEndpoint() async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT endpoint FROM storacha_settings WHERE id = 1")
        }
    }

    /// Stores the Storacha service endpoint (JSON).
    public func setStorachaEndpoint(_ endpoint: String, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO storacha_settings (id, endpoint, updated_at) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET endpoint = excluded.endpoint, updated_at = excluded.updated_at
                """, arguments: [endpoint, now.millisecondsSince1970])
        }
    }

    // MARK: Our spaces

    /// Adds (or replaces the delegation of) a space we drain.
    public func upsertStorachaSpace(space: String, delegation: Data, expiresAt: Date?, now: Date = Date()) async throws {
        guard !space.isEmpty, space.utf8.count <= 2048 else { throw ChatStoreError(.invalidArgument, "space DID must be 1–2048 bytes") }
        try await write { db in
            try db.execute(sql: """
                INSERT INTO storacha_spaces (space, delegation, expires_at, added_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(space) DO UPDATE SET delegation = excluded.delegation, expires_at = excluded.expires_at
                """, arguments: [space, delegation, expiresAt?.millisecondsSince1970, now.millisecondsSince1970])
        }
    }

    /// The spaces we drain, oldest first.
    public func storachaSpaces() async throws -> [StorachaSpaceRecord] {
        try await read { db in
            try StorachaSpaceRecord.fetchAll(db, sql: "SELECT * FROM storacha_spaces ORDER BY added_at, space")
        }
    }

    // MARK: Grants we issued

    /// Records (or renews) deposit rights given to a contact; keeps an existing tag, stores
    /// `depositKey` (ChatNode's versioned deposit key bytes, secret) and clears a revocation.
    ///
    /// - Returns: the stored grant.
    @discardableResult
    public func upsertStorachaGrant(
        contactID: ContactID, space: String, tag: Data, depositKey: Data, lifetimeSeconds: Int64, expiresAt: Date, now: Date = Date()
    ) async throws -> StorachaGrantRecord {
        guard tag.count == 16, lifetimeSeconds > 0, !depositKey.isEmpty else {
            throw ChatStoreError(.invalidArgument, "grant tag must be 16 bytes, lifetime positive, deposit key present")
        }
        return try await write { db in
            _ = try Self.fetchContact(db, contactID)
            try db.execute(sql: """
                INSERT INTO storacha_grants (contact_id, space, tag, deposit_key, lifetime_seconds, expires_at, revoked_at, issued_at)
                VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
                ON CONFLICT(contact_id, space) DO UPDATE SET deposit_key = excluded.deposit_key,
                    lifetime_seconds = excluded.lifetime_seconds, expires_at = excluded.expires_at, revoked_at = NULL,
                    issued_at = excluded.issued_at
                """, arguments: [contactID, space, tag, depositKey, lifetimeSeconds, expiresAt.millisecondsSince1970, now.millisecondsSince1970])
            return try StorachaGrantRecord.fetchOne(
                db, sql: "SELECT * FROM storacha_grants WHERE contact_id = ? AND space = ?", arguments: [contactID, space])!
        }
    }

    /// Every grant, revoked ones included.
    public func storachaGrants() async throws -> [StorachaGrantRecord] {
        try await read { db in
            try StorachaGrantRecord.fetchAll(db, sql: "SELECT * FROM storacha_grants ORDER BY contact_id, space")
        }
    }

    /// Marks the contact's grants revoked (no more renewals); returns the ones that were active.
    public func revokeStorachaGrants(contactID: ContactID, now: Date = Date()) async throws -> [StorachaGrantRecord] {
        try await write { db in
            let active = try StorachaGrantRecord.fetchAll(
                db, sql: "SELECT * FROM storacha_grants WHERE contact_id = ? AND revoked_at IS NULL", arguments: [contactID])
            try db.execute(sql: "UPDATE storacha_grants SET revoked_at = ? WHERE contact_id = ? AND revoked_at IS NULL",
                           arguments: [now.millisecondsSince1970, contactID])
            return active
        }
    }

    // MARK: Contacts' spaces

    /// Stores (or replaces) a contact's space we may deposit in, with the deposit key it gave
    /// us (ChatNode's versioned bytes, secret).
    public func upsertStorachaInbox(
        contactID: ContactID, space: String, tag: Data, depositKey: Data, delegation: Data, endpoint: String, expiresAt: Date?,
        now: Date = Date()
    ) async throws {
        guard !depositKey.isEmpty else { throw ChatStoreError(.invalidArgument, "deposit key missing") }
        try await write { db in
            _ = try Self.fetchContact(db, contactID)
            try db.execute(sql: """
                INSERT INTO storacha_inboxes (contact_id, space, tag, deposit_key, delegation, endpoint, expires_at, received_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(contact_id, space) DO UPDATE SET tag = excluded.tag, deposit_key = excluded.deposit_key,
                    delegation = excluded.delegation, endpoint = excluded.endpoint, expires_at = excluded.expires_at,
                    received_at = excluded.received_at
                """, arguments: [
                    contactID, space, tag, depositKey, delegation, endpoint, expiresAt?.millisecondsSince1970, now.millisecondsSince1970,
                ])
        }
    }

    /// The contact's spaces we may deposit in.
    public func storachaInboxes(contactID: ContactID) async throws -> [StorachaInboxRecord] {
        try await read { db in
            try StorachaInboxRecord.fetchAll(
                db, sql: "SELECT * FROM storacha_inboxes WHERE contact_id = ? ORDER BY received_at, space", arguments: [contactID])
        }
    }

    /// Forgets a contact's space (it revoked our rights).
    public func deleteStorachaInbox(contactID: ContactID, space: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM storacha_inboxes WHERE contact_id = ? AND space = ?", arguments: [contactID, space])
        }
    }
}
