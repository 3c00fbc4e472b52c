import Foundation
import GRDB

extension ChatDatabase {
    /// Stores a decrypted incoming message together with the session state that decrypting it
    /// produced, in one transaction (ARCHITECTURE.md §Delivery step 4). Acknowledge the message
    /// only with the returned proof.
    ///
    /// A message whose id is already stored in this conversation changes nothing and returns
    /// `.duplicate` (the node acknowledges it again, since the sender or mailbox evidently missed
    /// the first acknowledgement); the session is *not* saved for a duplicate.
    ///
    /// - Parameters:
    ///   - consumingOneTimePreKey: for a session-starting message, the one-time prekey it used;
    ///     it is marked consumed and erased in the same transaction.
    /// - Throws: `.sessionConflict` (reload the session and decrypt again); `.sequenceConflict`
    ///   when another message already has this sequence number; `.messageIDConflict` when the id
    ///   belongs to a message in another conversation or direction; `.preKeyConsumed`;
    ///   `.notFound` for an unknown contact. Nothing is stored when it throws.
    public func storeIncoming(
        contactID: ContactID,
        messageID: MessageID,
        seq: Int64,
        body: String,
        kind: MessageKind = .text,
        sentAt: Date,
        replyTo: MessageID? = nil,
        sessionState: Data,
        expectedSessionVersion: Int64?,
        consumingOneTimePreKey: UInt32? = nil,
        now: Date = Date()
    ) async throws -> StoreResult {
        guard seq > 0 else {
            throw ChatStoreError(.invalidArgument, "sequence numbers start at 1, got \(seq)")
        }
        return try await write { db in
            let conversationID = try Self.directConversationID(db, contactID: contactID)
            if let existing = try Row.fetchOne(db, sql: "SELECT conversation_id, direction FROM messages WHERE id = ?", arguments: [messageID]) {
                let sameConversation = try existing.decode(ConversationID.self, forColumn: "conversation_id") == conversationID
                let incoming = try existing.decode(String.self, forColumn: "direction") == MessageDirection.incoming.rawValue
                guard sameConversation, incoming else {
                    throw ChatStoreError(.messageIDConflict, "message id \(messageID) from contact \(contactID) is already used by another message")
                }
                return StoreResult(outcome: .duplicate, messageID: messageID, sessionVersion: nil)
            }
            if try Int64.fetchOne(db, sql: """
                SELECT 1 FROM messages WHERE conversation_id = ? AND direction = 'in' AND seq = ?
                """, arguments: [conversationID, seq]) != nil {
                throw ChatStoreError(.sequenceConflict, "contact \(contactID) sent sequence number \(seq) twice with different message ids")
            }
            if let consumingOneTimePreKey {
                try Self.consumeOneTimePreKey(db, id: consumingOneTimePreKey, now: now)
            }
            let version = try Self.saveSession(db, contactID: contactID, state: sessionState, expectedVersion: expectedSessionVersion, now: now)
            let nowMS = now.millisecondsSince1970
            try db.execute(sql: """
                INSERT INTO messages (id, conversation_id, direction, sender_contact_id, seq, body, kind, reply_to,
                                      sent_at, received_at, state, state_changed_at)
                VALUES (?, ?, 'in', ?, ?, ?, ?, ?, ?, ?, 'delivered', ?)
                """, arguments: [messageID, conversationID, contactID, seq, body, kind.rawValue, replyTo,
                                 sentAt.millisecondsSince1970, nowMS, nowMS])
            try db.execute(sql: "UPDATE contacts SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE id = ?",
                           arguments: [nowMS, contactID])
            return StoreResult(outcome: .stored, messageID: messageID, sessionVersion: version)
        }
    }
}
