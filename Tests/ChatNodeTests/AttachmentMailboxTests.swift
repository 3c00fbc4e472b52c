import ChatStore
import Foundation
import LibP2P
@testable import Mailbox
import Multiformats
import Testing

@testable import ChatNode

/// Bob (who uses `mailbox`) invites Alice while both are online, then goes offline.
/// Returns Bob's port, so he can come back on the same address.
private func introduce(alice: ChatAccount, nodeA: ChatNode, bob: ChatAccount) async throws -> UInt16 {
    let port = UInt16(try await freePort())
    let nodeB = makeMailboxNode(bob, port: port)
    try await whileOnline(nodeB) {
        let queues = try await withDirectory(bob) { try await $0.makeInviteQueues() }
        let invite = try await bob.makeInvite(addresses: try await nodeB.listeningAddresses(), mailboxes: queues)
        try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
        nodeA.kick()
        try await until("bob learns alice from her hello, which claims the invite's queues") {
            guard let contact = try await bob.database.contact(peerID: alice.peerID) else { return false }
            return try await bob.database.mailboxQueues(contactID: contact.id).count == queues.count
        }
    }
    return port
}

/// Attachment blocks held in `account`'s queues at `mailbox`.
private func blocksAtMailbox(_ mailbox: TestMailbox, for account: ChatAccount) async throws -> Int {
    var count = 0
    for queue in try await account.database.mailboxQueues() {
        count += try await mailbox.server.store.blockCount(of: try QueueCredentials(parsing: Array(queue.credentials)).queueID)
    }
    return count
}

@Suite("Attachments through mailboxes", .serialized)
struct AttachmentMailboxTests {
    @Test("Alice sends 3 MiB to offline Bob and goes offline; Bob drains and fetches it from his mailbox, byte-exact; no blocks stay there")
    func offlineBothWays() async throws {
        try await withMailbox { mailbox in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice")
                    let bob = try await makeAccount(home: homeB, name: "bob")
                    try await withDirectory(bob) { try await $0.use(mailbox.address.description) }
                    let file = patternBytes(3 * 1024 * 1024)
                    let nodeA = makeMailboxNode(alice)
                    let (port, id) = try await withRunning([nodeA]) {
                        let port = try await introduce(alice: alice, nodeA: nodeA, bob: bob)
                        let url = alice.home.appendingPathComponent("scan.pdf")
                        try Data(file).write(to: url)
                        let id = try await alice.sendFile(url, to: try await alice.contact(named: "bob")).message.id
                        nodeA.kick()
                        try await until("stored 1/1 at bob's mailbox", timeout: .seconds(60)) {
                            try await state(of: id, in: alice) == .stored(copies: 1, total: 1)
                        }
                        return (port, id)
                    }
                    // Alice is offline now; the blob's blocks wait at Bob's mailbox.
                    #expect(try await blocksAtMailbox(mailbox, for: bob) > 0)

                    let nodeB = makeMailboxNode(bob, port: port)
                    nodeB.attachments.options.bitswap.wantTimeout = .seconds(2)
                    nodeB.attachments.options.bitswap.maxAttemptsPerPeer = 1
                    try await whileOnline(nodeB) {
                        try await until("bob has the file from the mailbox", timeout: .seconds(60)) {
                            try await nodeB.attachmentRecord(id)?.state == .done
                        }
                    }
                    let record = try #require(try await nodeB.attachmentRecord(id))
                    let path = try #require(record.localPath)
                    #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == file)
                    #expect(try await blocksAtMailbox(mailbox, for: bob) == 0, "acknowledged blocks are deleted at the mailbox")
                }
            }
        }
    }

    @Test("blocks over the queue's byte quota are refused; the message still goes to the mailbox")
    func quotaRefusesBlocksNotTheMessage() async throws {
        var configuration = MailboxConfiguration()
        configuration.maxBytesPerQueue = 512 * 1024
        try await withMailbox(configuration: configuration) { mailbox in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice")
                    let bob = try await makeAccount(home: homeB, name: "bob")
                    try await withDirectory(bob) { try await $0.use(mailbox.address.description) }
                    let nodeA = makeMailboxNode(alice)
                    try await withRunning([nodeA]) {
                        _ = try await introduce(alice: alice, nodeA: nodeA, bob: bob)
                        let url = alice.home.appendingPathComponent("big.bin")
                        try Data(patternBytes(2 * 1024 * 1024)).write(to: url)
                        let id = try await alice.sendFile(url, to: try await alice.contact(named: "bob")).message.id
                        nodeA.kick()
                        try await until("stored 1/1 at bob's mailbox", timeout: .seconds(60)) {
                            try await state(of: id, in: alice) == .stored(copies: 1, total: 1)
                        }
                    }
                    #expect(try await blocksAtMailbox(mailbox, for: bob) == 0)
                    #expect(try await waitingEnvelopes(bob) >= 1)
                }
            }
        }
    }
}
