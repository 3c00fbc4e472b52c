/// What a decrypted message carries (ARCHITECTURE.md: room for group, reaction, edit, receipt).
///
/// A struct rather than an enum so kinds added later pass through older parsers untouched.
public struct ContentKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A text message; body is UTF-8.
    public static let text = ContentKind(rawValue: 0x01)
    /// A delivery or read receipt (crypto.md §8.7).
    public static let receipt = ContentKind(rawValue: 0x02)
    /// Control messages, e.g. a mailbox address update.
    public static let control = ContentKind(rawValue: 0x03)
    /// Reserved: group messages (Sender Keys distribution and group text).
    public static let group = ContentKind(rawValue: 0x04)
    /// Reserved: reactions.
    public static let reaction = ContentKind(rawValue: 0x05)
    /// Reserved: edits.
    public static let edit = ContentKind(rawValue: 0x06)
    /// A file attachment: the body names an encrypted blob (CID, key, name, size, media type).
    public static let attachment = ContentKind(rawValue: 0x07)

    public var description: String {
        switch self {
        case .text: "text"
        case .receipt: "receipt"
        case .control: "control"
        case .group: "group"
        case .reaction: "reaction"
        case .edit: "edit"
        case .attachment: "attachment"
        default: "kind 0x\(String(rawValue, radix: 16))"
        }
    }
}
