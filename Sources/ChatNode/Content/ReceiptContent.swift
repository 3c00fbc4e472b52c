import ChatStore
import Foundation

/// The body of an end-to-end receipt (content kind `receipt`): which of the recipient's
/// messages we stored or read (ARCHITECTURE.md Delivery §4). Receipts are never shown as
/// messages and get no receipts themselves.
///
/// JSON: `{"v":1,"kind":"delivered"|"read","ids":["<32 hex>",…],"at":<ms since 1970>}`.
public struct ReceiptContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 1
    /// The most message ids one receipt lists (keeps the body well inside an envelope bucket).
    public static let maximumIDs = 500

    /// Always `version`.
    public var v: Int
    /// `delivered` or `read`.
    public var kind: String
    /// The acknowledged message ids, lower-case hex.
    public var ids: [String]
    /// When it happened, milliseconds since 1970.
    public var at: Int64

    /// A receipt for `ids`.
    public init(kind: ReceiptKind, ids: [MessageID], at: Date) {
        self.v = Self.version
        self.kind = kind.rawValue
        self.ids = ids.map(\.description)
        self.at = Int64((at.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Parses a receipt body; unknown versions, kinds or ids are `.malformedInput`.
    public init(parsing body: String) throws {
        guard let decoded = try? JSONDecoder().decode(ReceiptContent.self, from: Data(body.utf8)),
              decoded.v == Self.version, ReceiptKind(rawValue: decoded.kind) != nil,
              decoded.ids.count <= Self.maximumIDs
        else {
            throw ChatNodeError(.malformedInput, "receipt body does not parse")
        }
        self = decoded
    }

    /// The receipt kind.
    public var receiptKind: ReceiptKind { ReceiptKind(rawValue: kind) ?? .delivered }

    /// The listed ids that parse.
    public var messageIDs: [MessageID] { ids.compactMap { try? MessageID(hex: $0) } }

    /// When it happened.
    public var date: Date { Date(timeIntervalSince1970: Double(at) / 1000) }

    /// The JSON body.
    public var body: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }
}
