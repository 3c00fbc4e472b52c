import Foundation
import GRDB

/// The 16-byte random id of a message, chosen by its sender and carried inside the E2E layer;
/// the key for de-duplication across direct delivery and mailboxes.
public struct MessageID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The 16 bytes.
    public let bytes: [UInt8]

    /// Wraps 16 bytes; any other length throws `.invalidArgument`.
    public init(bytes: some Collection<UInt8>) throws {
        self.bytes = try RandomID16.validate(bytes, what: "message id")
    }

    /// Parses the text form (32 hex digits).
    public init(hex: String) throws {
        self.bytes = try RandomID16.parseHex(hex, what: "message id")
    }

    private init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// A fresh random id.
    public static func random() -> MessageID { MessageID(unchecked: RandomID16.generate()) }

    /// Lower-case hex.
    public var description: String { RandomID16.hex(bytes) }

    /// Orders ids by their bytes.
    public static func < (lhs: MessageID, rhs: MessageID) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension MessageID: DatabaseValueConvertible {
    /// Stored as a 16-byte BLOB.
    public var databaseValue: DatabaseValue { Data(bytes).databaseValue }

    /// Reads a 16-byte BLOB; anything else is `nil` (a decoding error in GRDB).
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> MessageID? {
        guard let data = Data.fromDatabaseValue(dbValue), data.count == RandomID16.length else { return nil }
        return MessageID(unchecked: Array(data))
    }
}
