import Foundation
import GRDB

/// A message in a conversation, sent or received, with its delivery state.
public struct ChatMessage: Hashable, Sendable, Identifiable {
    /// The sender-chosen 16-byte id, unique across the database.
    public var id: MessageID
    /// The conversation it belongs to.
    public var conversationID: ConversationID
    /// Whether we sent or received it.
    public var direction: MessageDirection
    /// Who sent it: a contact for incoming messages, `nil` for ours.
    public var senderContactID: ContactID?
    /// The sender's sequence number in this conversation (from 1, per direction).
    public var seq: Int64
    /// The text.
    public var body: String
    /// The content kind.
    public var kind: MessageKind
    /// The message this one replies to, if any.
    public var replyTo: MessageID?
    /// When the sender sent it (the sender's clock, millisecond precision).
    public var sentAt: Date
    /// When we stored it (incoming only).
    public var receivedAt: Date?
    /// The delivery state.
    public var state: MessageState
    /// When `state` last changed.
    public var stateChangedAt: Date
    /// Delivery attempts so far (outgoing).
    public var attempts: Int
    /// When the next delivery attempt is due (outgoing, while pending).
    public var nextAttemptAt: Date?
    /// When the sender gives up (its TTL), if it has one.
    public var expiresAt: Date?
    /// The last delivery error, for display.
    public var error: String?
}

extension ChatMessage: FetchableRecord {
    /// Decodes a `messages` row; unknown enum values are `.corruptRecord`.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        conversationID = try row.decode(forColumn: "conversation_id")
        let directionText: String = try row.decode(forColumn: "direction")
        guard let direction = MessageDirection(rawValue: directionText) else {
            throw ChatStoreError(.corruptRecord, "unknown message direction \(directionText)")
        }
        self.direction = direction
        senderContactID = try row.decode(forColumn: "sender_contact_id")
        seq = try row.decode(forColumn: "seq")
        body = try row.decode(forColumn: "body")
        kind = MessageKind(rawValue: try row.decode(forColumn: "kind"))
        replyTo = try row.decode(forColumn: "reply_to")
        sentAt = Date(millisecondsSince1970: try row.decode(forColumn: "sent_at"))
        receivedAt = try (row.decode(Int64?.self, forColumn: "received_at")).map(Date.init(millisecondsSince1970:))
        state = try MessageState(row: row)
        stateChangedAt = Date(millisecondsSince1970: try row.decode(forColumn: "state_changed_at"))
        attempts = try row.decode(forColumn: "attempts")
        nextAttemptAt = try (row.decode(Int64?.self, forColumn: "next_attempt_at")).map(Date.init(millisecondsSince1970:))
        expiresAt = try (row.decode(Int64?.self, forColumn: "expires_at")).map(Date.init(millisecondsSince1970:))
        error = try row.decode(forColumn: "error")
    }
}

extension MessageState {
    /// Reads `state`, `stored_copies`, `stored_total` and `failure_reason`.
    init(row: Row) throws {
        let name: String = try row.decode(forColumn: "state")
        switch Kind(rawValue: name) {
        case .queued: self = .queued
        case .sent: self = .sent
        case .stored:
            self = .stored(copies: try row.decode(forColumn: "stored_copies") ?? 0,
                           total: try row.decode(forColumn: "stored_total") ?? 0)
        case .delivered: self = .delivered
        case .read: self = .read
        case .failed:
            self = .failed(FailureReason(rawValue: try row.decode(forColumn: "failure_reason") ?? "unknown"))
        case nil:
            throw ChatStoreError(.corruptRecord, "unknown message state \(name)")
        }
    }

    /// The column values that store this state.
    var columns: (state: String, copies: Int?, total: Int?, reason: String?) {
        switch self {
        case .stored(let copies, let total): (kind.rawValue, copies, total, nil)
        case .failed(let reason): (kind.rawValue, nil, nil, reason.rawValue)
        default: (kind.rawValue, nil, nil, nil)
        }
    }
}
