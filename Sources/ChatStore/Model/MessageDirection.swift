/// Whether we sent a message or received it.
public enum MessageDirection: String, Hashable, Sendable, CaseIterable {
    /// Received from a contact.
    case incoming = "in"
    /// Sent by us.
    case outgoing = "out"
}
