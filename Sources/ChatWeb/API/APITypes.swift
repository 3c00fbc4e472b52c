import ChatNode
import ChatStore
import Foundation
import Hummingbird

// The JSON shapes of the API (documented in API.md). Times are integer milliseconds since
// 1970; ids are the store's text forms (contact: integer, message: 32 hex digits).

/// A message's delivery state: `{"kind": "stored", "copies": 1, "total": 2}`,
/// `{"kind": "failed", "reason": "expired"}`, or just `{"kind": "sent"}`.
struct StateJSON: Codable, Hashable, Sendable {
    var kind: String
    var copies: Int?
    var total: Int?
    var reason: String?

    init(_ state: MessageState) {
        kind = state.kind.rawValue
        switch state {
        case .stored(let copies, let total):
            self.copies = copies
            self.total = total
        case .failed(let reason):
            self.reason = reason.rawValue
        default:
            break
        }
    }
}

/// One message of a conversation.
struct MessageJSON: ResponseCodable, Hashable, Sendable {
    var id: String
    var contactID: Int64
    var direction: String
    var seq: Int64
    var kind: String
    var body: String
    var replyTo: String?
    var sentAt: Int64
    var receivedAt: Int64?
    var state: StateJSON
    var stateChangedAt: Int64
    var attempts: Int
    var nextAttemptAt: Int64?
    var expiresAt: Int64?
    var error: String?

    init(_ message: ChatMessage, contactID: ContactID) {
        id = message.id.description
        self.contactID = contactID.rawValue
        direction = message.direction.rawValue
        seq = message.seq
        kind = message.kind.rawValue
        // An attachment's stored body holds its decryption key: show only its name and caption.
        if message.kind == .attachment {
            let content = try? AttachmentContent(parsing: message.body)
            body = "📎 " + (content?.name ?? "attachment") + (content?.text.map { " — \($0)" } ?? "")
        } else {
            body = message.body
        }
        replyTo = message.replyTo?.description
        sentAt = message.sentAt.milliseconds
        receivedAt = message.receivedAt?.milliseconds
        state = StateJSON(message.state)
        stateChangedAt = message.stateChangedAt.milliseconds
        attempts = message.attempts
        nextAttemptAt = message.nextAttemptAt?.milliseconds
        expiresAt = message.expiresAt?.milliseconds
        error = message.error
    }
}

/// One contact as the contact list shows it.
struct ContactJSON: ResponseCodable, Hashable, Sendable {
    var id: Int64
    var name: String
    var peerID: String
    var online: Bool
    var unread: Int
    var addresses: [String]
    var createdAt: Int64
    var lastSeenAt: Int64?
    var lastMessage: MessageJSON?
}

/// `GET /api/contacts`.
struct ContactListJSON: ResponseCodable, Sendable {
    var contacts: [ContactJSON]
}

/// `POST /api/contacts` body.
struct AddContactRequest: Decodable, Sendable {
    var invite: String
    var name: String
}

/// `POST /api/invite`: a fresh invite.
struct InviteJSON: ResponseCodable, Sendable {
    var text: String
    var peerID: String
    var addresses: [String]
    var createdAt: Int64
    var expiresAt: Int64
}

/// `GET /api/contacts/{id}/messages`: a page, oldest first.
struct MessagePageJSON: ResponseCodable, Sendable {
    var messages: [MessageJSON]
    /// Whether older messages exist; fetch them with `before` = the first message's id.
    var hasMore: Bool
}

/// `POST /api/contacts/{id}/messages` body.
struct SendRequest: Decodable, Sendable {
    var text: String
    var replyTo: String?
}

/// `POST /api/contacts/{id}/read` answer.
struct ReadJSON: ResponseCodable, Sendable {
    var marked: Int
}

/// One search hit.
struct SearchHitJSON: ResponseCodable, Sendable {
    var contactID: Int64?
    var contactName: String?
    var snippet: String
    var score: Double
    var message: MessageJSON
}

/// `GET /api/search`.
struct SearchJSON: ResponseCodable, Sendable {
    var query: String
    var results: [SearchHitJSON]
}

/// Outbox counts by state (`queued`, `sent`, `stored`).
typealias QueueCountsJSON = [String: Int]

/// One undelivered outgoing message in the offline queue.
struct QueueItemJSON: ResponseCodable, Sendable {
    var contactID: Int64
    var contactName: String
    var message: MessageJSON
}

/// `GET /api/queue`.
struct QueueJSON: ResponseCodable, Sendable {
    var counts: QueueCountsJSON
    var items: [QueueItemJSON]
}

/// `GET /api/status`.
struct StatusJSON: ResponseCodable, Sendable {
    var name: String
    var peerID: String
    var addresses: [String]
    var onlinePeers: [String]
    var contacts: Int
    var outbox: QueueCountsJSON
    var features: [String: Bool]
}

/// One mailbox in use (empty until the mailbox integration lands).
struct MailboxJSON: ResponseCodable, Sendable {
    var address: String
    var usedBytes: Int64?
    var quotaBytes: Int64?
}

/// `GET /api/mailboxes`.
struct MailboxListJSON: ResponseCodable, Sendable {
    var mailboxes: [MailboxJSON]
    var note: String?
}

/// An attachment held in the blockstore.
struct AttachmentJSON: ResponseCodable, Sendable {
    var cid: String
    var bytes: Int64
    var contactID: Int64?
    var createdAt: Int64?
}

/// `GET /api/storage`.
struct StorageJSON: ResponseCodable, Sendable {
    struct Database: Codable, Sendable {
        var path: String
        var bytes: Int64
    }
    struct Blockstore: Codable, Sendable {
        var available: Bool
        var bytes: Int64
        var blocks: Int
    }
    var database: Database
    var blockstore: Blockstore
    var attachments: [AttachmentJSON]
    var mailboxes: [MailboxJSON]
}

/// `POST /api/storage/attachments/delete` body.
struct DeleteAttachmentsRequest: Decodable, Sendable {
    var olderThanDays: Int
}

/// `POST /api/storage/attachments/delete` answer.
struct DeletedAttachmentsJSON: ResponseCodable, Sendable {
    var deleted: [AttachmentJSON]
    var freedBytes: Int64
}

extension Date {
    /// Milliseconds since 1970 (the API's time unit).
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
