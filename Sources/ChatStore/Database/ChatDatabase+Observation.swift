import GRDB

extension ChatDatabase {
    /// The latest page of the conversation with `contactID`, now and after every change to it
    /// (for UIs: the web socket pushes it).
    ///
    /// Only writes made through this `ChatDatabase` instance are noticed: a write by another
    /// process (the CLI) shows up with the next local write or a re-query.
    public func observeMessages(contactID: ContactID, limit: Int = 50) -> AsyncValueObservation<[ChatMessage]> {
        ValueObservation
            .tracking { db in
                let conversationID = try Self.directConversationID(db, contactID: contactID)
                return try Self.page(db, conversationID: conversationID, limit: limit, before: nil)
            }
            .removeDuplicates()
            .values(in: pool)
    }

    /// `outboxCounts()` now and after every change (the offline queue's badge); same scope as
    /// `observeMessages(contactID:limit:)`.
    public func observeOutboxCounts() -> AsyncValueObservation<[MessageState.Kind: Int]> {
        ValueObservation
            .tracking { db in try Self.outboxCounts(db) }
            .removeDuplicates()
            .values(in: pool)
    }
}
