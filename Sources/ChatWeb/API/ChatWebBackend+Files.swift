import ChatNode
import ChatStore
import Foundation

extension ChatWebBackend {
    /// The largest file the UI may upload, 512 MiB (the node itself takes up to 16 GiB from the CLI).
    static let maximumUploadSize: Int64 = 512 * 1024 * 1024
    /// Where uploaded files are kept inside the home: the sent message's record points at the
    /// copy, so the sender can download it again.
    static let uploadDirectoryName = "web-uploads"

    // MARK: Sending

    /// A fresh, private directory for one upload: `<home>/web-uploads/<random>/`.
    func makeUploadDirectory() throws -> URL {
        let directory = home.appendingPathComponent(Self.uploadDirectoryName, isDirectory: true)
            .appendingPathComponent(UUID().uuidString.lowercased(), isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return directory
    }

    /// Sends the uploaded `file` to a contact as an attachment message.
    func sendFile(contactID: Int64, file: URL, caption: String?) async throws -> MessageJSON {
        let contact = try await contact(id: contactID)
        let outgoing = try await account.sendFile(file, text: caption, to: contact)
        node.kick()
        changed()
        return try await json(outgoing.message, contactID: contact.id)
    }

    // MARK: Downloading

    /// The local file of a message's attachment, with the name to offer it under.
    ///
    /// - Throws: 404 when the message has no attachment; 409 while it is not fetched (or was deleted).
    func attachmentFile(messageID text: String) async throws -> (url: URL, name: String, mediaType: String, size: Int64) {
        let id = try parseMessageID(text)
        guard let message = try await database.message(id: id), message.kind == .attachment,
              let record = try await database.attachment(messageID: id) else {
            throw ChatWebError(.notFound, "message \(text) has no attachment here")
        }
        let summary = MessageAttachmentJSON(AttachmentSummary(record, text: nil))
        guard summary.downloadable, let path = record.localPath else {
            throw ChatWebError(.conflict, "the attachment is \(summary.state), not downloaded; wait until it is done")
        }
        let url = URL(fileURLWithPath: path)
        guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber else {
            throw ChatWebError(.notFound, "the attachment's file is gone from this machine")
        }
        return (url, AttachmentFileName.sanitize(record.name), record.mediaType, size.int64Value)
    }

    // MARK: Listing and deleting

    /// Every attachment of every conversation, with its record, largest first.
    func attachments() async throws -> [AttachmentJSON] {
        var result: [AttachmentJSON] = []
        for contact in try await database.contacts() {
            var cursor: MessageID?
            while true {
                let page = try await database.messages(contactID: contact.id, limit: ChatDatabase.maximumPageSize, before: cursor)
                for message in page where message.kind == .attachment {
                    guard let record = try await database.attachment(messageID: message.id) else { continue }
                    let shown = MessageAttachmentJSON(AttachmentSummary(record, text: nil))
                    let localBytes = record.localPath.map { Self.fileSize($0) } ?? 0
                    result.append(AttachmentJSON(
                        messageID: message.id.description, cid: record.cid, name: record.name, bytes: record.size,
                        localBytes: shown.state == MessageAttachmentJSON.deleted ? 0 : localBytes,
                        direction: record.direction.rawValue, state: shown.state, contactID: contact.id.rawValue,
                        createdAt: record.createdAt.milliseconds))
                }
                guard page.count == ChatDatabase.maximumPageSize, let first = page.first else { break }
                cursor = first.id
            }
        }
        return result.sorted { ($0.bytes, $0.messageID) > ($1.bytes, $1.messageID) }
    }

    /// Deletes the local files of received attachments older than `days` days and frees their
    /// blocks (``ChatAccount/deleteReceivedAttachments(_:)``); their messages stay, with the
    /// attachment in state `deleted`. Sent files (the user's own uploads) stay.
    func deleteAttachments(_ request: DeleteAttachmentsRequest) async throws -> DeletedAttachmentsJSON {
        guard request.olderThanDays >= 0 else { throw ChatWebError(.badRequest, "olderThanDays must be 0 or more") }
        let cutoff = account.now().addingTimeInterval(-Double(request.olderThanDays) * 86_400)
        var candidates: [MessageID: AttachmentJSON] = [:]
        var order: [MessageID] = []
        for item in try await attachments() where item.direction == MessageDirection.incoming.rawValue {
            guard item.state == "done", let createdAt = item.createdAt, createdAt <= cutoff.milliseconds else { continue }
            let id = try MessageID(hex: item.messageID)
            candidates[id] = item
            order.append(id)
        }
        let deletion = try await account.deleteReceivedAttachments(order)
        let deleted = deletion.deleted.compactMap { id in
            candidates[id].map { item in
                var gone = item
                gone.state = MessageAttachmentJSON.deleted
                gone.localBytes = 0
                return gone
            }
        }
        if !deleted.isEmpty { changed() }
        return DeletedAttachmentsJSON(deleted: deleted, freedBytes: deletion.fileBytes, freedBlockBytes: deletion.blockBytes.map { Int64($0) })
    }

    // MARK: Mailboxes and storage

    /// The mailboxes we receive at, each asked for its queues' counters and quotas.
    func mailboxes() async throws -> MailboxListJSON {
        let mailboxes = try await database.mailboxes()
        guard !mailboxes.isEmpty else {
            return MailboxListJSON(mailboxes: [], note: "no mailbox in use: messages to you wait in your contacts' outboxes while you are offline (add one with `p2pchat mailbox use ADDRESS`)")
        }
        let names = Dictionary(uniqueKeysWithValues: try await database.contacts().map { ($0.id, $0.displayName) })
        let usage = try await node.mailboxQueueUsage()
        var result: [MailboxJSON] = []
        for mailbox in mailboxes {
            let queues = usage.filter { $0.queue.mailbox == mailbox.address }.map { item in
                MailboxJSON.Queue(
                    contactID: item.queue.contactID?.rawValue, contactName: item.queue.contactID.flatMap { names[$0] },
                    envelopes: item.envelopeCount.map(Int64.init(clamping:)), usedBytes: item.byteCount.map(Int64.init(clamping:)),
                    quotaEnvelopes: item.maxEnvelopes.map(Int64.init(clamping:)), quotaBytes: item.maxBytes.map(Int64.init(clamping:)))
            }
            let reachable = queues.allSatisfy { $0.usedBytes != nil }
            let sum: (KeyPath<MailboxJSON.Queue, Int64?>) -> Int64? = { path in
                reachable ? queues.reduce(0) { $0 + ($1[keyPath: path] ?? 0) } : nil
            }
            result.append(MailboxJSON(
                address: mailbox.address, queues: queues, reachable: reachable,
                envelopes: sum(\.envelopes), usedBytes: sum(\.usedBytes), quotaBytes: sum(\.quotaBytes)))
        }
        let note = result.allSatisfy(\.reachable) ? nil : "some mailboxes did not answer: their counts and quotas are unknown"
        return MailboxListJSON(mailboxes: result, note: note)
    }

    func storage() async throws -> StorageJSON {
        let path = database.path
        var databaseBytes: Int64 = 0
        for suffix in ["", "-wal", "-shm"] {
            databaseBytes += Self.fileSize(path + suffix)
        }
        var blocks = StorageJSON.Blockstore(available: false, bytes: 0, blocks: 0, diskBytes: 0)
        if let store = openBlockstore() {
            blocks = StorageJSON.Blockstore(
                available: true, bytes: Int64(clamping: (try? store.usage()) ?? 0), blocks: (try? store.count()) ?? 0,
                diskBytes: Int64(clamping: store.diskUsage()))
        }
        return StorageJSON(
            database: .init(path: path, bytes: databaseBytes), blockstore: blocks, attachments: try await attachments(),
            mailboxes: try await mailboxes().mailboxes)
    }
}
