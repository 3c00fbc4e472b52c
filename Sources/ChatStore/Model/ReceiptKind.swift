/// The kind of an end-to-end receipt from the recipient of one of our messages.
public enum ReceiptKind: String, Hashable, Sendable, CaseIterable {
    /// The recipient stored the message.
    case delivered
    /// The recipient read the message.
    case read

    /// The message state the receipt proves.
    public var state: MessageState {
        switch self {
        case .delivered: .delivered
        case .read: .read
        }
    }
}
