import ChatStore
import Foundation

extension ChatAccount {
    /// Sends a file: encrypts it with a fresh key (``AttachmentLayout``), imports the blob into
    /// the home's block store (pinned, so our node serves it over Bitswap) and queues an
    /// attachment message carrying CID, key, name, size and media type. Streams: memory stays
    /// constant whatever the file's size.
    ///
    /// - Parameters:
    ///   - text: an optional caption.
    ///   - progress: file bytes encrypted and the total, called at most once per percent.
    /// - Throws: ``ChatNodeError`` `.malformedInput` (unreadable file, not a regular file),
    ///   `.limitExceeded` (file or caption too large); store errors.
    public func sendFile(
        _ file: URL, text: String? = nil, to contact: Contact, progress: (@Sendable (UInt64, UInt64) -> Void)? = nil
    ) async throws -> OutgoingMessage {
        let caption = text.flatMap { $0.isEmpty ? nil : $0 }
        if let caption, caption.utf8.count > AttachmentContent.maximumTextLength {
            throw ChatNodeError(.limitExceeded, "caption of \(caption.utf8.count) bytes is too long; the limit is \(AttachmentContent.maximumTextLength) bytes")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ChatNodeError(.malformedInput, "\(file.path) is not a file; give the path of a regular file")
        }
        let name = String(AttachmentFileName.truncated(file.lastPathComponent))
        let key = AttachmentKey.generate()
        var lastPercent = -1
        let importer = AttachmentImporter(blockstore: try attachmentStorage.blockstore())
        // The blob's blocks are unpinned until its root is: no garbage collection meanwhile.
        let imported = try attachmentStorage.writingBlocks {
            try importer.importFile(at: file, key: key) { done, total in
                let percent = total == 0 ? 100 : Int(done * 100 / total)
                guard percent != lastPercent else { return }
                lastPercent = percent
                progress?(done, total)
            }
        }
        let content = AttachmentContent(
            cid: imported.cid, key: key, name: name, size: imported.fileSize, mediaType: MediaType.guess(fileName: name), text: caption)
        let outgoing = try await enqueue(content.body, kind: .attachment, to: contact.id)
        try await database.saveAttachment(AttachmentRecord(
            messageID: outgoing.message.id, direction: .outgoing, cid: content.cid, key: key.serialized, name: name,
            size: Int64(imported.fileSize), mediaType: content.mediaType, state: .done, localPath: file.standardizedFileURL.path,
            bytesTotal: Int64(imported.blobSize), now: now()))
        return outgoing
    }

    /// The attachment of `message` (nil for other kinds): its stored record, or what its body
    /// says while no record exists yet.
    public func attachment(of message: ChatMessage) async throws -> AttachmentSummary? {
        guard message.kind == .attachment else { return nil }
        let content = try? AttachmentContent(parsing: message.body)
        if let record = try await database.attachment(messageID: message.id) {
            return AttachmentSummary(record, text: content?.text)
        }
        return content.map(AttachmentSummary.init)
    }
}
