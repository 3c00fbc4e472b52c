import Foundation
import GRDB

/// A message's attachment as stored: what the sender's end-to-end content said about the file
/// and, for received attachments, how far fetching it has come.
///
/// The store treats the CID, key and media type as opaque; ChatNode's `Attachments` folder
/// gives them meaning.
public struct AttachmentRecord: Hashable, Sendable {
    /// The message carrying the attachment.
    public var messageID: MessageID
    /// Whether we sent or received it.
    public var direction: MessageDirection
    /// The root CID of the encrypted blob's DAG, text form.
    public var cid: String
    /// The blob's symmetric key.
    public var key: Data
    /// The file name the sender gave (unsanitized; sanitize before touching the file system).
    public var name: String
    /// The plaintext size in bytes.
    public var size: Int64
    /// The media type, e.g. `image/png`.
    public var mediaType: String
    /// The fetch state.
    public var state: AttachmentState
    /// Where the file is on this machine: the decrypted copy (received) or the original (sent).
    public var localPath: String?
    /// Bytes fetched so far.
    public var bytesDone: Int64
    /// Bytes to fetch in all (the encrypted blob's size).
    public var bytesTotal: Int64
    /// Fetch attempts so far.
    public var attempts: Int
    /// When a failed fetch is tried again; `nil` when it is not retried.
    public var nextAttemptAt: Date?
    /// When the record was made.
    public var createdAt: Date
    /// When the record last changed.
    public var updatedAt: Date

    /// A record as it starts: `pending` with no progress (received) or `done` (sent).
    public init(
        messageID: MessageID, direction: MessageDirection, cid: String, key: Data, name: String, size: Int64,
        mediaType: String, state: AttachmentState, localPath: String? = nil, bytesTotal: Int64 = 0, now: Date = Date()
    ) {
        self.messageID = messageID
        self.direction = direction
        self.cid = cid
        self.key = key
        self.name = name
        self.size = size
        self.mediaType = mediaType
        self.state = state
        self.localPath = localPath
        self.bytesDone = state == .done ? bytesTotal : 0
        self.bytesTotal = bytesTotal
        self.attempts = 0
        self.nextAttemptAt = nil
        self.createdAt = now
        self.updatedAt = now
    }
}

extension AttachmentRecord: FetchableRecord {
    /// Decodes an `attachments` row; unknown enum values are `.corruptRecord`.
    public init(row: Row) throws {
        messageID = try row.decode(forColumn: "message_id")
        let directionText: String = try row.decode(forColumn: "direction")
        guard let direction = MessageDirection(rawValue: directionText) else {
            throw ChatStoreError(.corruptRecord, "unknown attachment direction \(directionText)")
        }
        self.direction = direction
        cid = try row.decode(forColumn: "cid")
        key = try row.decode(forColumn: "key")
        name = try row.decode(forColumn: "name")
        size = try row.decode(forColumn: "size")
        mediaType = try row.decode(forColumn: "media_type")
        let stateName: String = try row.decode(forColumn: "state")
        guard let state = AttachmentState(name: stateName, failure: try row.decode(forColumn: "failure")) else {
            throw ChatStoreError(.corruptRecord, "unknown attachment state \(stateName)")
        }
        self.state = state
        localPath = try row.decode(forColumn: "local_path")
        bytesDone = try row.decode(forColumn: "bytes_done")
        bytesTotal = try row.decode(forColumn: "bytes_total")
        attempts = try row.decode(forColumn: "attempts")
        nextAttemptAt = try (row.decode(Int64?.self, forColumn: "next_attempt_at")).map(Date.init(millisecondsSince1970:))
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
        updatedAt = Date(millisecondsSince1970: try row.decode(forColumn: "updated_at"))
    }
}
