/// Proof that an outgoing message is durably queued: returned only after the transaction that
/// put it in `messages` and `outbox` committed. `send` should return to the user only once it
/// holds one.
public struct OutgoingMessage: Hashable, Sendable {
    /// The queued message (state `queued`, a fresh id and the conversation's next sequence number).
    public let message: ChatMessage
    /// The recipient.
    public let contactID: ContactID

    init(message: ChatMessage, contactID: ContactID) {
        self.message = message
        self.contactID = contactID
    }
}
