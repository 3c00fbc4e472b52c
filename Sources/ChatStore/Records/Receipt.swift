import Foundation
import GRDB

/// An end-to-end receipt for one of our messages.
public struct Receipt: Hashable, Sendable {
    /// The message it is for.
    public var messageID: MessageID
    /// Delivered or read.
    public var kind: ReceiptKind
    /// When the recipient says it happened.
    public var at: Date
}

extension Receipt: FetchableRecord {
    /// Decodes a `receipts` row.
    public init(row: Row) throws {
        messageID = try row.decode(forColumn: "message_id")
        let kindText: String = try row.decode(forColumn: "kind")
        guard let kind = ReceiptKind(rawValue: kindText) else {
            throw ChatStoreError(.corruptRecord, "unknown receipt kind \(kindText)")
        }
        self.kind = kind
        at = Date(millisecondsSince1970: try row.decode(forColumn: "at"))
    }
}
