import Foundation
import GRDB

/// One of our X3DH private keys (identity DH key, signed prekey or one-time prekey), stored as
/// an opaque, ChatCrypto-versioned blob.
public struct PreKeyRecord: Hashable, Sendable {
    /// Which kind of key this is; ids are unique per kind.
    public var kind: PreKeyKind
    /// The key id published in the bundle.
    public var id: UInt32
    /// The ciphersuite byte (ARCHITECTURE.md §Identity and keys: 0x01, 0x02, 0x03).
    public var suite: UInt8
    /// The serialized private key (ChatCrypto's format, which carries its own version).
    public var keyData: Data
    /// When the key was generated.
    public var createdAt: Date
    /// When the key stops being offered (signed prekeys rotate), if ever.
    public var expiresAt: Date?
    /// When a first message consumed this one-time prekey, if it did.
    public var consumedAt: Date?

    /// Creates a record for a freshly generated key.
    public init(kind: PreKeyKind, id: UInt32, suite: UInt8, keyData: Data, createdAt: Date, expiresAt: Date? = nil) {
        self.kind = kind
        self.id = id
        self.suite = suite
        self.keyData = keyData
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.consumedAt = nil
    }

    /// Whether a first message has used this key (one-time prekeys only).
    public var isConsumed: Bool { consumedAt != nil }
}

extension PreKeyRecord: FetchableRecord, PersistableRecord {
    /// The table name.
    public static var databaseTableName: String { "prekeys" }

    /// Decodes a row; an unknown kind or out-of-range id is `.corruptRecord`.
    public init(row: Row) throws {
        let kindText: String = try row.decode(forColumn: "kind")
        guard let kind = PreKeyKind(rawValue: kindText) else {
            throw ChatStoreError(.corruptRecord, "unknown prekey kind \(kindText)")
        }
        let id: Int64 = try row.decode(forColumn: "key_id")
        let suite: Int64 = try row.decode(forColumn: "suite")
        guard let id32 = UInt32(exactly: id), let suite8 = UInt8(exactly: suite) else {
            throw ChatStoreError(.corruptRecord, "prekey id \(id) or suite \(suite) out of range")
        }
        self.kind = kind
        self.id = id32
        self.suite = suite8
        keyData = try row.decode(forColumn: "key")
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
        expiresAt = try (row.decode(Int64?.self, forColumn: "expires_at")).map(Date.init(millisecondsSince1970:))
        consumedAt = try (row.decode(Int64?.self, forColumn: "consumed_at")).map(Date.init(millisecondsSince1970:))
    }

    /// Encodes the row.
    public func encode(to container: inout PersistenceContainer) throws {
        container["kind"] = kind.rawValue
        container["key_id"] = Int64(id)
        container["suite"] = Int64(suite)
        container["key"] = keyData
        container["created_at"] = createdAt.millisecondsSince1970
        container["expires_at"] = expiresAt?.millisecondsSince1970
        container["consumed_at"] = consumedAt?.millisecondsSince1970
    }
}
