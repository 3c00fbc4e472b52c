import ChatStore
import Foundation
import Multiformats
import Testing

@testable import ChatNode
@testable import IPFS

@Suite("Deleting received attachments")
struct AttachmentDeletionTests {
    @Test("deleting a received file frees its blocks too; the sender's copy and the message stay")
    func deletionFreesBlocks() async throws {
        try await withAttachmentPair { nodeA, nodeB in
            let alice = nodeA.account
            let bob = nodeB.account
            let file = patternBytes(1_500_000)
            let url = alice.home.appendingPathComponent("scan.pdf")
            try Data(file).write(to: url)
            let sent = try await alice.sendFile(url, to: try await alice.contact(named: "bob"))
            let id = sent.message.id
            nodeA.kick()
            try await until("bob has the file", timeout: .seconds(60)) {
                try await nodeB.attachmentRecord(id)?.state == .done
            }
            let record = try #require(try await nodeB.attachmentRecord(id))
            let path = try #require(record.localPath)
            let cid = try CID(parsing: record.cid)
            let store = try bob.attachmentStorage.blockstore()
            let before = try store.usage()
            #expect(try store.has(cid))
            #expect(before >= UInt64(record.bytesTotal))

            let deletion = try await bob.deleteReceivedAttachments([id])
            #expect(deletion.deleted == [id])
            #expect(deletion.fileBytes == Int64(file.count))
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(try !store.has(cid))
            let after = try store.usage()
            #expect(after + UInt64(record.bytesTotal) <= before)
            #expect(deletion.blockBytes == before - after)
            #expect(try await nodeB.attachmentRecord(id)?.state == .failed(AttachmentDeletion.reason))
            #expect(try await bob.database.message(id: id) != nil)
            // Alice still serves what she sent.
            #expect(try alice.attachmentStorage.blockstore().has(cid))
            // Asking again changes nothing.
            #expect(try await bob.deleteReceivedAttachments([id]) == AttachmentDeletion())
        }
    }

    @Test("a blob another attachment still needs (one we sent) keeps its pin and blocks")
    func sharedBlobStays() async throws {
        try await withAttachmentPair { nodeA, nodeB in
            let file = patternBytes(300_000)
            let key = AttachmentKey.generate()
            let blob = try AttachmentEncryptor.encrypt(file, key: key)
            let cid = try nodeA.importBlob(blob)
            let content = { (name: String) in
                AttachmentContent(cid: cid, key: key, name: name, size: UInt64(file.count), mediaType: "x/y", text: nil)
            }
            // Bob sends the blob himself (his store pins it), then receives the same blob from Alice.
            #expect(try nodeB.importBlob(blob) == cid)
            _ = try await nodeB.sendAttachmentContent(content("mine.bin"), to: "alice")
            let received = try await nodeA.sendAttachmentContent(content("theirs.bin"), to: "bob")
            try await until("bob has the file", timeout: .seconds(60)) {
                try await nodeB.attachmentRecord(received)?.state == .done
            }
            let store = try nodeB.account.attachmentStorage.blockstore()
            #expect(try store.pinnedRoots().contains(cid))  // finishing the fetch kept Bob's own pin

            let deletion = try await nodeB.account.deleteReceivedAttachments([received])
            #expect(deletion.deleted == [received])
            #expect(try store.pinnedRoots().contains(cid))
            #expect(try blocksMissing(under: cid, in: store) == 0)
        }
    }

    @Test("a collection asked for while blocks are written waits for the writer")
    func collectionWaitsForWriters() throws {
        let home = URL(fileURLWithPath: "/tmp/cn-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let storage = AttachmentStorage(home: home)
        let store = try storage.blockstore()
        let bytes = patternBytes(10_000)
        let cid = CID.v1(codec: .raw, multihash: .sha256(bytes))
        try storage.writingBlocks {
            try store.put(bytes, for: cid)  // not pinned yet, like an import under way
            #expect(try storage.collectGarbage() == nil)
            #expect(try store.has(cid))
        }
        #expect(try !store.has(cid))  // collected when the writer ended
        #expect(try storage.collectGarbage()?.removedBlocks == 0)
    }

    @Test("a collection another process's writer made skip is tried again once it is done")
    func collectionDeferredByAnotherProcessIsRetried() throws {
        let home = URL(fileURLWithPath: "/tmp/cn-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let storage = AttachmentStorage(home: home)
        let store = try storage.blockstore()
        let bytes = patternBytes(20_000)
        let cid = CID.v1(codec: .raw, multihash: .sha256(bytes))
        try store.put(bytes, for: cid)
        #expect(storage.retryDeferredCollection() == nil)  // nothing was deferred
        // Another process (its own lock descriptor) is writing blocks.
        let otherProcess = try Blockstore.WritersLock(directory: store.directory)
        try otherProcess.acquireShared(wait: true)
        #expect(try storage.collectGarbage() == nil)
        #expect(storage.retryDeferredCollection() == nil)  // still writing
        #expect(try store.has(cid))
        otherProcess.release()
        #expect(storage.retryDeferredCollection()?.removedBlocks == 1)
        #expect(try !store.has(cid))
        #expect(storage.retryDeferredCollection() == nil)  // done: nothing due any more
    }
}

/// How many blocks of the DAG under `root` are not in `store`.
private func blocksMissing(under root: CID, in store: Blockstore) throws -> Int {
    var missing = 0
    var stack = [root]
    while let cid = stack.popLast() {
        guard let bytes = try store.get(cid) else {
            missing += 1
            continue
        }
        stack += try BlockLinks.links(of: cid, bytes: bytes)
    }
    return missing
}
