import Foundation
import GRDB

extension ChatDatabase {
    /// Stores a newly generated key.
    ///
    /// - Throws: `.duplicatePreKey` when a key of that kind and id exists.
    public func savePreKey(_ record: PreKeyRecord) async throws {
        try await write { db in
            if try PreKeyRecord.exists(db, key: ["kind": record.kind.rawValue, "key_id": Int64(record.id)]) {
                throw ChatStoreError(.duplicatePreKey, "\(record.kind.rawValue) prekey \(record.id) already exists")
            }
            try record.insert(db)
        }
    }

    /// The key of `kind` with `id`, consumed or not.
    public func preKey(kind: PreKeyKind, id: UInt32) async throws -> PreKeyRecord? {
        try await read { db in
            try PreKeyRecord.fetchOne(db, key: ["kind": kind.rawValue, "key_id": Int64(id)])
        }
    }

    /// The keys of `kind`, ordered by id; consumed one-time keys only when asked.
    public func preKeys(kind: PreKeyKind, includingConsumed: Bool = false) async throws -> [PreKeyRecord] {
        try await read { db in
            try PreKeyRecord.fetchAll(db, sql: """
                SELECT * FROM prekeys WHERE kind = ? AND (? OR consumed_at IS NULL) ORDER BY key_id
                """, arguments: [kind.rawValue, includingConsumed])
        }
    }

    /// One more than the highest id of `kind` (0 when there is none).
    public func nextPreKeyID(kind: PreKeyKind) async throws -> UInt32 {
        try await read { db in
            let highest = try Int64.fetchOne(db, sql: "SELECT max(key_id) FROM prekeys WHERE kind = ?", arguments: [kind.rawValue])
            guard let highest else { return 0 }
            guard let next = UInt32(exactly: highest + 1) else {
                throw ChatStoreError(.invalidArgument, "\(kind.rawValue) prekey ids are exhausted")
            }
            return next
        }
    }

    /// Deletes keys whose expiry has passed (rotated signed prekeys); returns how many.
    @discardableResult
    public func deleteExpiredPreKeys(now: Date = Date()) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM prekeys WHERE expires_at IS NOT NULL AND expires_at <= ?",
                           arguments: [now.millisecondsSince1970])
            return db.changesCount
        }
    }

    /// Marks one-time prekey `id` consumed and erases its private key (forward secrecy for the
    /// first message) inside an open transaction; throws when it is
    /// missing or already consumed (a replayed first message).
    static func consumeOneTimePreKey(_ db: Database, id: UInt32, now: Date) throws {
        try db.execute(sql: """
            UPDATE prekeys SET consumed_at = ?, key = x'' WHERE kind = 'one-time' AND key_id = ? AND consumed_at IS NULL
            """, arguments: [now.millisecondsSince1970, Int64(id)])
        guard db.changesCount == 1 else {
            if try PreKeyRecord.exists(db, key: ["kind": PreKeyKind.oneTime.rawValue, "key_id": Int64(id)]) {
                throw ChatStoreError(.preKeyConsumed, "one-time prekey \(id) was already used")
            }
            throw ChatStoreError(.notFound, "no one-time prekey \(id)")
        }
    }
}
