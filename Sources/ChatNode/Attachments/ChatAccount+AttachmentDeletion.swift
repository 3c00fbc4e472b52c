import ChatStore
import Foundation
import Multiformats

extension ChatAccount {
    /// Deletes the decrypted files of received attachments and frees their encrypted blocks
    /// ("delete old attachments"). Each message stays in its conversation with its attachment
    /// `failed("deleted")` (``AttachmentDeletion/reason``), never fetched again; its blob's root
    /// is unpinned unless another attachment still needs that blob (``attachmentBlobsInUse(among:)``),
    /// and the block store is garbage-collected so the bytes are freed.
    ///
    /// Messages that are not received attachments in state `done` are skipped. Pins are
    /// released before any file is touched: a failure leaves the attachment as it was, and a
    /// failed collection is made up by the next one.
    public func deleteReceivedAttachments(_ ids: [MessageID]) async throws -> AttachmentDeletion {
        var records: [AttachmentRecord] = []
        var seen: Set<MessageID> = []
        for id in ids where seen.insert(id).inserted {
            guard let record = try await database.attachment(messageID: id), record.direction == .incoming, record.state == .done else { continue }
            records.append(record)
        }
        var deletion = AttachmentDeletion()
        guard !records.isEmpty else { return deletion }
        let roots = Dictionary(records.compactMap { record in (try? CID(parsing: record.cid)).map { ($0.description, $0) } }) { first, _ in first }
        let kept = try await attachmentBlobsInUse(among: Set(roots.keys))
        let store = try attachmentStorage.blockstore()
        for (text, root) in roots where !kept.contains(text) {
            try store.unpin(root: root)
        }
        for record in records {
            if let path = record.localPath { deletion.fileBytes += Self.removeReceivedFile(atPath: path) }
            try await database.setAttachmentState(messageID: record.messageID, .failed(AttachmentDeletion.reason), nextAttemptAt: nil, now: now())
            deletion.deleted.append(record.messageID)
        }
        deletion.blockBytes = try attachmentStorage.collectGarbage()?.freedBytes
        return deletion
    }

    /// The blobs among `roots` (root CIDs in text form) that some attachment still needs in the
    /// block store: one we sent (the recipient fetches it from us) or one still being received
    /// (no record yet, `pending`, `fetching`, or `failed` and retried). A received attachment
    /// that is `done` has its decrypted file and needs no blocks; one given up needs none either.
    func attachmentBlobsInUse(among roots: Set<String>) async throws -> Set<String> {
        var inUse: Set<String> = []
        guard !roots.isEmpty else { return inUse }
        for contact in try await database.contacts() {
            var before: MessageID?
            while true {
                let page = try await database.messages(contactID: contact.id, limit: ChatDatabase.maximumPageSize, before: before)
                for message in page where message.kind == .attachment {
                    guard let content = try? AttachmentContent(parsing: message.body), let root = try? CID(parsing: content.cid) else { continue }
                    let text = root.description
                    guard roots.contains(text), !inUse.contains(text) else { continue }
                    if try await needsBlocks(message) { inUse.insert(text) }
                }
                guard page.count == ChatDatabase.maximumPageSize, let first = page.first else { break }
                before = first.id
            }
        }
        return inUse
    }

    private func needsBlocks(_ message: ChatMessage) async throws -> Bool {
        guard message.direction == .incoming else { return true }
        guard let record = try await database.attachment(messageID: message.id) else { return true }
        switch record.state {
        case .pending, .fetching: return true
        case .failed: return record.nextAttemptAt != nil
        case .done: return false
        }
    }

    /// Removes a received file and its directory (`attachments/<message id>/`) once empty;
    /// returns the bytes removed.
    private static func removeReceivedFile(atPath path: String) -> Int64 {
        let file = URL(fileURLWithPath: path)
        let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        guard (try? FileManager.default.removeItem(at: file)) != nil else { return 0 }
        let directory = file.deletingLastPathComponent()
        if (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.isEmpty == true {
            try? FileManager.default.removeItem(at: directory)
        }
        return size
    }
}
