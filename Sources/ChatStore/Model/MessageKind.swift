/// The content kind of a message, carried inside the E2E layer.
///
/// Extensible (ARCHITECTURE.md §Identity and keys: room for group, reaction, edit and receipt
/// messages): unknown kinds from newer peers are stored and shown as they are.
public struct MessageKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stored name, e.g. `text`.
    public let rawValue: String

    /// Wraps a kind name.
    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// A plain text message.
    public static let text = MessageKind(rawValue: "text")
}
