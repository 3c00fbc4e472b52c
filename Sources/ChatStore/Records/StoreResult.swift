/// Proof that an incoming message is durably stored, returned by `storeIncoming`.
///
/// Only the store can make one (the initializer is internal), so the node's acknowledgement
/// path (direct ack, mailbox acknowledge-and-delete, delivery receipt) should take a
/// `StoreResult` as its argument: then a message cannot be acknowledged before it is stored.
public struct StoreResult: Hashable, Sendable {
    /// What storing did.
    public enum Outcome: Hashable, Sendable {
        /// The message is new and was stored together with the advanced session state.
        case stored
        /// The message was already stored; nothing changed (acknowledge it again anyway).
        case duplicate
    }

    /// What storing did.
    public let outcome: Outcome
    /// The message acknowledged by this proof.
    public let messageID: MessageID
    /// The session version now stored (`nil` for a duplicate: the session was not touched).
    public let sessionVersion: Int64?

    init(outcome: Outcome, messageID: MessageID, sessionVersion: Int64?) {
        self.outcome = outcome
        self.messageID = messageID
        self.sessionVersion = sessionVersion
    }
}
