import Foundation
import GRDB

/// The 16-byte random id of a conversation (a 1:1 chat with a contact today, a group later).
public struct ConversationID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16 bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes; any other length throws `.invalidArgument`.
    public init(bytes: some Collection<UInt8>) throws {
        self.bytes = try RandomID16.validate(bytes, what: "conversation id")
    }

    /// Parses the text form (32 hex digits).
    public init(hex: String) throws {
        self.bytes = try RandomID16.parseHex(hex, what: "conversation id")
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A fresh random id.
    public static func random() -> ConversationID { ConversationID(unchecked: RandomID16.generate()) }

    /// Lower-case hex.
    public var description: String { RandomID16.hex(bytes) }

    /// Orders ids by their bytes.
    public static func < (lhs: ConversationID, rhs: ConversationID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension ConversationID: DatabaseValueConvertible {
    /// Stored as a 16-byte BLOB.
    public var databaseValue: DatabaseValue { Data(bytes).databaseValue }

    /// Reads a 16-byte BLOB; anything else is `nil` (a decoding error in GRDB).
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> ConversationID? {
        guard let data = Data.fromDatabaseValue(dbValue), data.count == RandomID16.length else { return nil }
        return ConversationID(unchecked: Array(data))
    }
}
