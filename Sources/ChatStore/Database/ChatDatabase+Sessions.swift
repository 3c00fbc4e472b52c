import Foundation
import GRDB

extension ChatDatabase {
    /// The contact's session state and its version, or `nil` before the first session.
    public func loadSession(contactID: ContactID) async throws -> StoredSession? {
        try await read { db in try Self.fetchSession(db, contactID: contactID) }
    }

    /// Saves a new session state if the stored one is still at `expectedVersion` (`nil`: no
    /// session stored yet), and returns the new version.
    ///
    /// Two processes that both read version 3 and advance the ratchet cannot both save: the
    /// second gets `.sessionConflict` and must reload, instead of silently forking the ratchet.
    ///
    /// - Throws: `.sessionConflict`, or `.notFound` when the contact does not exist.
    @discardableResult
    public func saveSession(contactID: ContactID, state: Data, expectedVersion: Int64?, now: Date = Date()) async throws -> Int64 {
        try await write { db in
            try Self.saveSession(db, contactID: contactID, state: state, expectedVersion: expectedVersion, now: now)
        }
    }

    /// Deletes the contact's session (to start over with a fresh X3DH).
    public func deleteSession(contactID: ContactID) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE contact_id = ?", arguments: [contactID])
        }
    }

    static func fetchSession(_ db: Database, contactID: ContactID) throws -> StoredSession? {
        guard let row = try Row.fetchOne(db, sql: "SELECT state, version, updated_at FROM sessions WHERE contact_id = ?", arguments: [contactID]) else {
            return nil
        }
        return StoredSession(
            state: try row.decode(forColumn: "state"),
            version: try row.decode(forColumn: "version"),
            updatedAt: Date(millisecondsSince1970: try row.decode(forColumn: "updated_at")))
    }

    /// The compare-and-swap inside an open transaction.
    static func saveSession(_ db: Database, contactID: ContactID, state: Data, expectedVersion: Int64?, now: Date) throws -> Int64 {
        let stored = try Int64.fetchOne(db, sql: "SELECT version FROM sessions WHERE contact_id = ?", arguments: [contactID])
        guard stored == expectedVersion else {
            let found = stored.map { "version \($0)" } ?? "no session"
            let expected = expectedVersion.map { "version \($0)" } ?? "no session"
            throw ChatStoreError(.sessionConflict, "session with contact \(contactID) changed: expected \(expected), found \(found); reload and retry")
        }
        if let expectedVersion {
            let next = expectedVersion + 1
            try db.execute(sql: "UPDATE sessions SET state = ?, version = ?, updated_at = ? WHERE contact_id = ? AND version = ?",
                           arguments: [state, next, now.millisecondsSince1970, contactID, expectedVersion])
            return next
        }
        guard try Int64.fetchOne(db, sql: "SELECT 1 FROM contacts WHERE id = ?", arguments: [contactID]) != nil else {
            throw ChatStoreError(.notFound, "no contact \(contactID)")
        }
        try db.execute(sql: "INSERT INTO sessions (contact_id, state, version, updated_at) VALUES (?, ?, 1, ?)",
                       arguments: [contactID, state, now.millisecondsSince1970])
        return 1
    }
}
