import Foundation
import GRDB

/// An outgoing message waiting for delivery, with its sealed envelope once there is one.
public struct OutboxEntry: Hashable, Sendable {
    /// The message (plaintext, for sealing; never sent as is).
    public var message: ChatMessage
    /// The recipient.
    public var contactID: ContactID
    /// The sealed envelope, `nil` until `commitSealed` stored it. Once present it is reused for
    /// every retry: a message is never sealed twice.
    public var envelope: Data?
    /// Delivery attempts so far.
    public var attempts: Int
    /// When this entry is due.
    public var nextAttemptAt: Date
}

extension OutboxEntry: FetchableRecord {
    /// Decodes `messages.*` plus `outbox_contact_id`, `outbox_envelope`, `outbox_attempts` and
    /// `outbox_next_attempt_at`.
    public init(row: Row) throws {
        message = try ChatMessage(row: row)
        contactID = try row.decode(forColumn: "outbox_contact_id")
        envelope = try row.decode(forColumn: "outbox_envelope")
        attempts = try row.decode(forColumn: "outbox_attempts")
        nextAttemptAt = Date(millisecondsSince1970: try row.decode(forColumn: "outbox_next_attempt_at"))
    }

    /// The select that `init(row:)` decodes; append `WHERE …`.
    static let selectSQL = """
        SELECT messages.*, outbox.contact_id AS outbox_contact_id, outbox.envelope AS outbox_envelope,
               outbox.attempts AS outbox_attempts, outbox.next_attempt_at AS outbox_next_attempt_at
        FROM outbox JOIN messages ON messages.id = outbox.message_id
        """
}
