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
    /// The file an attachment message carries (never its key); `nil` for other kinds.
    var attachment: MessageAttachmentJSON?

    init(_ message: ChatMessage, contactID: ContactID, attachment: AttachmentSummary? = nil) {
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
        if message.kind == .attachment {
            self.attachment = attachment.map(MessageAttachmentJSON.init)
                ?? (try? AttachmentContent(parsing: message.body)).map { MessageAttachmentJSON(content: $0) }
        }
    }
}

/// An attachment as the conversation view shows it: what the file is and how far fetching it
/// has come. Built from `AttachmentSummary`, it never carries the key or the message body.
struct MessageAttachmentJSON: Codable, Hashable, Sendable {
    /// The state a received file is in once "delete old attachments" removed it (the same word
    /// as the node's failure reason for it).
    static let deleted = AttachmentDeletion.reason

    var name: String
    var size: Int64
    var mediaType: String
    /// `pending`, `fetching`, `done`, `failed` or `deleted`.
    var state: String
    var bytesDone: Int64
    var bytesTotal: Int64
    var error: String?
    /// Whether a failed fetch will be tried again.
    var retrying: Bool
    var caption: String?
    /// Whether `GET /api/messages/{id}/attachment` serves the file now.
    var downloadable: Bool

    init(_ summary: AttachmentSummary) {
        name = summary.name
        size = Int64(clamping: summary.size)
        mediaType = summary.mediaType
        bytesDone = summary.bytesDone
        bytesTotal = summary.bytesTotal
        retrying = summary.retrying
        caption = summary.text
        if summary.state == "failed", summary.error == Self.deleted {
            state = Self.deleted
            error = nil
        } else {
            state = summary.state
            error = summary.error
        }
        downloadable = state == "done" && summary.path != nil
    }

    /// What the message body says while no record exists yet: pending.
    init(content: AttachmentContent) {
        name = content.name
        size = Int64(clamping: content.size)
        mediaType = content.mediaType
        state = "pending"
        bytesDone = 0
        bytesTotal = Int64((try? AttachmentLayout(fileSize: content.size).blobSize) ?? 0)
        retrying = false
        caption = content.text
        downloadable = false
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

/// One mailbox in use, with its queues' totals. The counters are `nil` when the mailbox could
/// not be asked (it is down, or too slow to answer).
struct MailboxJSON: ResponseCodable, Sendable {
    /// One of our queues at the mailbox.
    struct Queue: Codable, Sendable {
        /// The contact who deposits in it; `nil` for a queue still waiting in an invite.
        var contactID: Int64?
        var contactName: String?
        var envelopes: Int64?
        var usedBytes: Int64?
        var quotaEnvelopes: Int64?
        var quotaBytes: Int64?
    }
    var address: String
    var queues: [Queue]
    /// Whether the mailbox answered for every queue.
    var reachable: Bool
    var envelopes: Int64?
    var usedBytes: Int64?
    var quotaBytes: Int64?
}

/// `GET /api/mailboxes`.
struct MailboxListJSON: ResponseCodable, Sendable {
    var mailboxes: [MailboxJSON]
    var note: String?
}

/// An attachment as the storage view lists it.
struct AttachmentJSON: ResponseCodable, Sendable {
    var messageID: String
    var cid: String
    var name: String
    /// The file's size.
    var bytes: Int64
    /// Bytes its local file takes now (0 once deleted or while not fetched).
    var localBytes: Int64
    var direction: String
    var state: String
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
        /// Bytes of block data.
        var bytes: Int64
        var blocks: Int
        /// Bytes its files take on disk (database, log and segment files).
        var diskBytes: Int64
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
    /// Bytes of decrypted files removed.
    var freedBytes: Int64
    /// Bytes the block store freed (the deleted files' encrypted blocks and any other unpinned
    /// block); `nil` while blocks are being written and the collection waits for them.
    var freedBlockBytes: Int64?
}

extension Date {
    /// Milliseconds since 1970 (the API's time unit).
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
