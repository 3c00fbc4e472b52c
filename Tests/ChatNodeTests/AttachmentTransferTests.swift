import ChatStore
import Foundation
import LibP2P
import Multiformats
import Synchronization
import Testing

@testable import ChatNode
@testable import IPFS

/// Alice and Bob, running, each a contact of the other; `body` gets both nodes.
func withAttachmentPair(
    bobRetry: RetryPolicy = .default, bobOptions: (inout AttachmentFetcher.Options) -> Void = { _ in },
    _ body: @Sendable (ChatNode, ChatNode) async throws -> Void
) async throws {
    try await withTemporaryHome { homeA in
        try await withTemporaryHome { homeB in
            let alice = try await makeAccount(home: homeA, name: "alice")
            let bob = try await makeAccount(home: homeB, name: "bob")
            let nodeA = makeNode(alice)
            let nodeB = makeNode(bob, retry: bobRetry)
            bobOptions(&nodeB.attachments.options)
            try await withRunning([nodeA, nodeB]) {
                try await connect(inviter: nodeA, invitee: bob, as: "alice")
                nodeB.kick()
                try await until("alice knows bob") { (try? await alice.contact(named: "bob")) != nil }
                try await body(nodeA, nodeB)
            }
        }
    }
}

extension ChatNode {
    /// The attachment record of message `id` in this node's database.
    func attachmentRecord(_ id: MessageID) async throws -> AttachmentRecord? {
        try await account.database.attachment(messageID: id)
    }

    /// Queues a hand-made attachment message to `contact` (tests: wrong keys, hostile names).
    func sendAttachmentContent(_ content: AttachmentContent, to name: String) async throws -> MessageID {
        let contact = try await account.contact(named: name)
        let id = try await account.enqueue(content.body, kind: .attachment, to: contact.id).message.id
        kick()
        return id
    }

    /// Imports a (possibly tampered) blob into this node's block store.
    func importBlob(_ blob: [UInt8]) throws -> CID {
        try AttachmentImporter(blockstore: account.attachmentStorage.blockstore()).importBlob(blob)
    }
}

/// The files left in a received attachment's directory (none after a failure).
func filesInAttachmentDirectory(_ node: ChatNode, _ id: MessageID) -> [String] {
    let directory = node.account.home.appendingPathComponent("attachments").appendingPathComponent(id.description)
    return (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
}

@Suite("Attachments between two in-process nodes")
struct AttachmentTransferTests {
    @Test("Alice sends 5 MiB; Bob's node fetches it over Bitswap from her, byte-exact, state done")
    func fiveMebibytes() async throws {
        try await withAttachmentPair { nodeA, nodeB in
            let alice = nodeA.account
            let bob = nodeB.account
            let file = patternBytes(5 * 1024 * 1024)
            let url = alice.home.appendingPathComponent("holiday video.mp4")
            try Data(file).write(to: url)
            let progress = ProgressLog()
            let sent = try await alice.sendFile(url, text: "from the beach", to: try await alice.contact(named: "bob")) { done, total in
                progress.append(done, total)
            }
            #expect(progress.last.map { [$0.0, $0.1] } == [UInt64(file.count), UInt64(file.count)])
            #expect(progress.count <= 101)
            let id = sent.message.id
            nodeA.kick()
            try await until("bob has the file", timeout: .seconds(60)) {
                try await nodeB.attachmentRecord(id)?.state == .done
            }
            let record = try #require(try await nodeB.attachmentRecord(id))
            let expectedPath = bob.home.appendingPathComponent("attachments/\(id)/holiday video.mp4").path
            #expect(record.localPath == expectedPath)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: expectedPath))) == file)
            #expect(record.bytesDone == record.bytesTotal)
            #expect(record.bytesTotal == Int64(try AttachmentLayout(fileSize: UInt64(file.count)).blobSize))
            #expect(filesInAttachmentDirectory(nodeB, id) == ["holiday video.mp4"])

            // Bob sees it with its caption; Alice's message reaches `delivered` like a text.
            let message = try #require(try await bob.conversation(with: try await bob.contact(named: "alice")).last)
            #expect(message.id == id)
            #expect(AttachmentContent.displayText(of: message) == "from the beach")
            let summary = try #require(try await bob.attachment(of: message))
            #expect(summary.state == "done" && summary.mediaType == "video/mp4" && summary.size == UInt64(file.count))
            #expect(summary.line.contains(expectedPath))
            // Search finds it by caption and shows name and caption, never the JSON (key).
            let hits = try await bob.search("beach")
            #expect(hits.map(\.message.id) == [id])
            #expect(hits.first?.hit.snippet == "📎 holiday video.mp4 — from the beach")
            try await until("alice's attachment message delivered") {
                try await alice.database.message(id: id)?.state == .delivered
            }
            let own = try #require(try await nodeA.attachmentRecord(id))
            #expect(own.direction == .outgoing && own.state == .done && own.localPath == url.path)
        }
    }

    @Test("a hostile name stays inside the attachment directory; a wrong key or tampered blob fails without a file")
    func hostileMessages() async throws {
        try await withAttachmentPair { nodeA, nodeB in
            let file = patternBytes(150_000)
            let key = AttachmentKey.generate()
            let blob = try AttachmentEncryptor.encrypt(file, key: key)
            let cid = try nodeA.importBlob(blob)
            let escape = "escape-\(UUID().uuidString).txt"
            let good = try await nodeA.sendAttachmentContent(
                AttachmentContent(cid: cid, key: key, name: "../../../\(escape)", size: UInt64(file.count), mediaType: "text/plain", text: nil),
                to: "bob")
            let wrongKey = try await nodeA.sendAttachmentContent(
                AttachmentContent(cid: cid, key: .generate(), name: "wrong-key.bin", size: UInt64(file.count), mediaType: "x/y", text: nil),
                to: "bob")
            var tampered = blob
            tampered[70_000] ^= 0x40
            let tamperedCID = try nodeA.importBlob(tampered)
            let corrupted = try await nodeA.sendAttachmentContent(
                AttachmentContent(cid: tamperedCID, key: key, name: "tampered.bin", size: UInt64(file.count), mediaType: "x/y", text: nil),
                to: "bob")

            try await until("bob finished all three", timeout: .seconds(60)) {
                for id in [good, wrongKey, corrupted] {
                    guard let state = try await nodeB.attachmentRecord(id)?.state, state == .done || state.name == "failed" else { return false }
                }
                return true
            }
            let safe = try #require(try await nodeB.attachmentRecord(good))
            #expect(safe.state == .done)
            #expect(safe.localPath == nodeB.account.home.appendingPathComponent("attachments/\(good)/\(escape)").path)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(safe.localPath)))) == file)
            for depth in 0...3 {
                var outside = nodeB.account.home
                for _ in 0..<depth { outside = outside.deletingLastPathComponent() }
                #expect(!FileManager.default.fileExists(atPath: outside.appendingPathComponent(escape).path))
            }
            for id in [wrongKey, corrupted] {
                let record = try #require(try await nodeB.attachmentRecord(id))
                guard case .failed(let reason) = record.state else {
                    Issue.record("expected failed, got \(record.state)")
                    continue
                }
                #expect(reason.contains("does not authenticate"))
                #expect(record.nextAttemptAt == nil)  // final: the same blob never decrypts
                #expect(record.localPath == nil)
                #expect(filesInAttachmentDirectory(nodeB, id).isEmpty)
            }
        }
    }

    @Test("a corrupted block at the sender fails the fetch cleanly; it is retried and succeeds once repaired")
    func corruptedBlockThenRetry() async throws {
        let slowRetry = RetryPolicy(initialDelay: .seconds(600), maximumDelay: .seconds(600), multiplier: 1, jitter: 0)
        try await withAttachmentPair(bobRetry: slowRetry, bobOptions: { $0.bitswap.wantTimeout = .seconds(2) }) { nodeA, nodeB in
            let file = patternBytes(600_000)
            let key = AttachmentKey.generate()
            let blob = try AttachmentEncryptor.encrypt(file, key: key)
            let cid = try nodeA.importBlob(blob)
            // Corrupt one leaf on Alice's disk: Bob must refuse it (he hashes what she serves) and store none of it.
            let store = try nodeA.account.attachmentStorage.blockstore()
            let root = try #require(try store.get(cid))
            let leaf = try #require(try BlockLinks.links(of: cid, bytes: root).last)
            let leafBytes = try #require(try store.get(leaf))
            var bad = leafBytes
            bad[10] ^= 0xFF
            try store.overwriteUnverified(leaf, with: bad)

            let id = try await nodeA.sendAttachmentContent(
                AttachmentContent(cid: cid, key: key, name: "data.bin", size: UInt64(file.count), mediaType: "x/y", text: nil),
                to: "bob")
            try await until("bob's fetch failed", timeout: .seconds(60)) {
                try await nodeB.attachmentRecord(id)?.state.name == "failed"
            }
            let failed = try #require(try await nodeB.attachmentRecord(id))
            #expect(failed.nextAttemptAt != nil)  // network-side failure: retried
            #expect(failed.localPath == nil)
            #expect(filesInAttachmentDirectory(nodeB, id).isEmpty)
            let bobStore = try nodeB.account.attachmentStorage.blockstore()
            #expect(try bobStore.get(leaf) == nil)

            // Alice repairs her store; Bob's retry gets the file.
            #expect(try nodeA.importBlob(blob) == cid)
            nodeB.attachments.wake()
            try await until("bob has the file after the retry", timeout: .seconds(60)) {
                try await nodeB.attachmentRecord(id)?.state == .done
            }
            let record = try #require(try await nodeB.attachmentRecord(id))
            #expect(record.attempts >= 2)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: try #require(record.localPath)))) == file)
        }
    }
}

/// Collects progress calls (from a `@Sendable` callback).
final class ProgressLog: Sendable {
    private let entries = Mutex<[(UInt64, UInt64)]>([])
    func append(_ done: UInt64, _ total: UInt64) { entries.withLock { $0.append((done, total)) } }
    var count: Int { entries.withLock { $0.count } }
    var last: (UInt64, UInt64)? { entries.withLock { $0.last } }
}
