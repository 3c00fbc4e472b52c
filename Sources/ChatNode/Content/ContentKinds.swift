import ChatCrypto
import ChatStore

extension MessageKind {
    /// An end-to-end receipt, stored but never shown.
    public static let receipt = MessageKind(rawValue: "receipt")
    /// A control message (profile, addresses), stored but never shown.
    public static let control = MessageKind(rawValue: "control")
    /// A file attachment (ChatNode/Attachments): the body is an `AttachmentContent`.
    public static let attachment = MessageKind(rawValue: "attachment")

    /// Whether a message of this kind is shown to the user (listed, searched, counted).
    public var isVisible: Bool { self == .text || self == .attachment }

    /// The E2E content kind that carries this stored kind.
    var contentKind: ContentKind {
        switch self {
        case .text: .text
        case .receipt: .receipt
        case .control: .control
        case .attachment: .attachment
        default: ContentKind(rawValue: UInt8(rawValue.dropFirst("kind-".count), radix: 16) ?? ContentKind.text.rawValue)
        }
    }

    /// The stored kind for a received content kind.
    init(_ kind: ContentKind) {
        switch kind {
        case .text: self = .text
        case .receipt: self = .receipt
        case .control: self = .control
        case .attachment: self = .attachment
        default: self = MessageKind(rawValue: "kind-" + String(kind.rawValue, radix: 16))
        }
    }
}
