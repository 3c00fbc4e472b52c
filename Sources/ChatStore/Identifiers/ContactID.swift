import GRDB

/// The local row id of a contact. Meaningful only inside one home's database.
public struct ContactID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The SQLite row id.
    public let rawValue: Int64

    /// Wraps a row id (as printed by `description`, e.g. from a CLI argument).
    public init(rawValue: Int64) { self.rawValue = rawValue }

    public var description: String { String(rawValue) }

    public static func < (lhs: ContactID, rhs: ContactID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension ContactID: DatabaseValueConvertible {
    /// Stored as an INTEGER.
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    /// Reads an INTEGER.
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ContactID? {
        Int64.fromDatabaseValue(dbValue).map(ContactID.init(rawValue:))
    }
}
