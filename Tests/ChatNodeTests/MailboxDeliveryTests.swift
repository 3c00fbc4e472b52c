import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Mailbox
import Multiformats
import Synchronization
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

@Suite("Offline delivery through mailboxes", .serialized)
struct MailboxDeliveryTests {
    @Test("recipient offline: stored 1/1 at its mailbox, drained exactly once in order at start, delivered only on its receipt, deleted there")
    func offlineDepositThenDrain() async throws {
        try await withMailbox { mailbox in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice")
                    let bob = try await makeAccount(home: homeB, name: "bob")
                    try await withDirectory(bob) { try await $0.use(mailbox.address.description) }
                    let nodeA = makeMailboxNode(alice)
                    try await withRunning([nodeA]) {
                        let port = try await introduce(alice: alice, nodeA: nodeA, bob: bob)
                        let contact = try await alice.contact(named: "bob")
                        #expect(contact.mailboxes.count == 1, "the invite carried one queue")
                        #expect(try await bob.database.mailboxQueues(contactID: try await bob.contact(named: "alice").id).count == 1,
                                "alice's hello claimed the invite queue")

                        let texts = (1...20).map { "offline \($0)" }
                        var sent: [MessageID] = []
                        for text in texts { sent.append(try await alice.send(text, to: contact).message.id) }
                        let ids = sent
                        nodeA.kick()
                        try await until("all stored 1/1") {
                            var all = true
                            for id in ids where try await state(of: id, in: alice) != .stored(copies: 1, total: 1) { all = false }
                            return all
                        }
                        #expect(try await waitingEnvelopes(bob) >= texts.count)  // (+ the hello, if it went there)
                        #expect(try await bob.texts(with: "alice").isEmpty)

                        try await whileOnline(makeMailboxNode(bob, port: port)) {
                            try await until("bob has everything") { try await bob.texts(with: "alice").count == texts.count }
                            try await until("alice's messages delivered") {
                                var all = true
                                for id in ids where try await state(of: id, in: alice) != .delivered { all = false }
                                return all
                            }
                        }
                        let received = try await bob.texts(with: "alice")
                        #expect(received.sorted { $0.seq < $1.seq }.map(\.body) == texts, "exactly once, in order")
                        #expect(received.map(\.id) == ids)
                        #expect(try await waitingEnvelopes(bob) == 0, "acknowledged envelopes are deleted at the mailbox")
                    }
                }
            }
        }
    }

    @Test("a refusing mailbox (unknown queue) is recorded and the next one takes the copy: stored 1/2")
    func refusalFallsBack() async throws {
        try await withMailbox { first in
            try await withMailbox { second in
                try await withTemporaryHome { homeA in
                    try await withTemporaryHome { homeB in
                        let alice = try await makeAccount(home: homeA, name: "alice")
                        let bob = try await makeAccount(home: homeB, name: "bob")
                        try await withDirectory(bob) { directory in
                            try await directory.use(first.address.description)
                            try await directory.use(second.address.description)
                        }
                        let nodeA = makeMailboxNode(alice)
                        try await withRunning([nodeA]) {
                            let port = try await introduce(alice: alice, nodeA: nodeA, bob: bob)
                            #expect(try await alice.contact(named: "bob").mailboxes.count == 2)
                            // The first mailbox loses Bob's queue.
                            let lost = try #require(try await bob.database.mailboxQueues().first { $0.mailbox == first.address.description })
                            let credentials = try QueueCredentials(parsing: Array(lost.credentials))
                            try await withDirectory(bob) { try await $0.client.deleteQueue(credentials) }

                            let sent = try await alice.send("via the second mailbox", to: try await alice.contact(named: "bob"))
                            nodeA.kick()
                            try await until("stored") { try await state(of: sent.message.id, in: alice)?.kind == .stored }
                            let message = try #require(try await alice.database.message(id: sent.message.id))
                            #expect(message.state == .stored(copies: 1, total: 2))
                            #expect(message.error?.contains("unknown queue") == true, "\(message.error ?? "no error")")

                            try await whileOnline(makeMailboxNode(bob, port: port)) {
                                try await until("delivered") { try await state(of: sent.message.id, in: alice) == .delivered }
                            }
                            #expect(try await bob.texts(with: "alice").map(\.body) == ["via the second mailbox"])
                        }
                    }
                }
            }
        }
    }

    @Test("TTL: the mailbox drops the envelope when it expires and the sender shows failed(expired)")
    func ttlExpiry() async throws {
        let clock = TestClock()
        let mailboxClock = MailboxClock { UInt64(clock.now.timeIntervalSince1970 * 1000) }
        try await withMailbox(clock: mailboxClock) { mailbox in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try ChatAccount(home: homeA, identity: .generate(), messageTTL: .seconds(3600), now: clock.function)
                    try await alice.initialize(name: "alice", listenPort: 0)
                    let bob = try await makeAccount(home: homeB, name: "bob", clock: clock.function)
                    try await withDirectory(bob) { try await $0.use(mailbox.address.description) }
                    let nodeA = makeMailboxNode(alice)
                    try await withRunning([nodeA]) {
                        _ = try await introduce(alice: alice, nodeA: nodeA, bob: bob)
                        let sent = try await alice.send("too late", to: try await alice.contact(named: "bob"))
                        nodeA.kick()
                        try await until("stored") { try await state(of: sent.message.id, in: alice)?.kind == .stored }
                        let waiting = try await waitingEnvelopes(bob)  // (+ the hello, if it went there)
                        #expect(waiting >= 1)

                        clock.advance(by: 2 * 3600)
                        #expect(try await mailbox.server.sweepExpired() == waiting, "deposited with the message's remaining TTL")
                        #expect(try await waitingEnvelopes(bob) == 0)
                        nodeA.kick()
                        try await until("failed(expired)") { try await state(of: sent.message.id, in: alice) == .failed(.expired) }
                    }
                }
            }
        }
    }

    @Test("existing contacts get a new mailbox's queue inside the session; each contact its own queue")
    func existingContactsLearnQueues() async throws {
        try await withMailbox { mailbox in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    try await withTemporaryHome { homeC in
                        let alice = try await makeAccount(home: homeA, name: "alice")
                        let bob = try await makeAccount(home: homeB, name: "bob")
                        let carol = try await makeAccount(home: homeC, name: "carol")
                        let nodeA = makeMailboxNode(alice)
                        let nodeB = makeMailboxNode(bob)
                        let nodeC = makeMailboxNode(carol)
                        try await withRunning([nodeA, nodeB, nodeC]) {
                            try await connect(inviter: nodeB, invitee: alice, as: "bob")
                            try await connect(inviter: nodeB, invitee: carol, as: "bob")
                            nodeA.kick()
                            nodeC.kick()
                            try await until("bob knows both") { try await bob.database.contacts().count == 2 }
                            #expect(try await withDirectory(bob) { try await $0.use(mailbox.address.description) } == 2)
                            nodeB.kick()
                            try await until("alice and carol learn their queues") {
                                let a = try await alice.contact(named: "bob").mailboxes.count
                                let c = try await carol.contact(named: "bob").mailboxes.count
                                return a == 1 && c == 1
                            }
                            let forAlice = try QueueAddress(parsing: Array(try await alice.contact(named: "bob").mailboxes[0]))
                            let forCarol = try QueueAddress(parsing: Array(try await carol.contact(named: "bob").mailboxes[0]))
                            #expect(forAlice.mailbox == mailbox.address)
                            #expect(forAlice.queueID != forCarol.queueID, "one queue per contact: the mailbox cannot link them")
                        }
                    }
                }
            }
        }
    }

    @Test("both add each other's invite at once: the smaller PeerID's session wins, the other reseals; nothing lost or doubled")
    func simultaneousAddTieBreak() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let (numberA, numberB) = (try await freePort(), try await freePort())
                try await alice.database.setListenPort(UInt16(numberA))  // the hellos carry them
                try await bob.database.setListenPort(UInt16(numberB))
                let portA = try Multiaddr("/ip4/127.0.0.1/tcp/\(numberA)")
                let portB = try Multiaddr("/ip4/127.0.0.1/tcp/\(numberB)")
                let nodeA = makeNode(alice, retry: RetryTests.fast, listen: [portA])
                let nodeB = makeNode(bob, retry: RetryTests.fast, listen: [portB])
                let inviteA = try await alice.makeInvite(addresses: [portA])
                let inviteB = try await bob.makeInvite(addresses: [portB])
                try await alice.addContact(invite: try alice.parseInvite(inviteB.text), name: "bob")
                try await bob.addContact(invite: try bob.parseInvite(inviteA.text), name: "alice")
                let fromAlice = try await alice.send("hi from alice", to: try await alice.contact(named: "bob"))
                let fromBob = try await bob.send("hi from bob", to: try await bob.contact(named: "alice"))
                // Both sides seal before anything is delivered: the sessions really collide.
                for (account, node, name) in [(alice, nodeA, "bob"), (bob, nodeB, "alice")] {
                    let contact = try await account.contact(named: name)
                    for entry in try await account.database.dueOutbox(now: .distantFuture, limit: 100) {
                        #expect(try await node.engine.envelope(for: entry, contact: contact) != nil)
                    }
                    let session = try Session(serialized: Array(try #require(try await account.database.loadSession(contactID: contact.id)).state))
                    #expect(session.role == .initiator && session.isAwaitingFirstReply)
                }
                try await withRunning([nodeA, nodeB]) {
                    try await until("both delivered") {
                        let a = try await state(of: fromAlice.message.id, in: alice)
                        let b = try await state(of: fromBob.message.id, in: bob)
                        return a == .delivered && b == .delivered
                    }
                    #expect(try await alice.texts(with: "bob").count == 2)
                    #expect(try await alice.texts(with: "bob").filter { $0.direction == .incoming }.map(\.body) == ["hi from bob"])
                    #expect(try await bob.texts(with: "alice").filter { $0.direction == .incoming }.map(\.body) == ["hi from alice"])
                    // One session survives on both sides: the one the smaller PeerID started.
                    let aliceIsSmaller = alice.peerID.bytes.lexicographicallyPrecedes(bob.peerID.bytes)
                    let sessionA = try Session(serialized: Array(try #require(try await alice.database.loadSession(contactID: try await alice.contact(named: "bob").id)).state))
                    let sessionB = try Session(serialized: Array(try #require(try await bob.database.loadSession(contactID: try await bob.contact(named: "alice").id)).state))
                    #expect(sessionA.baseKey == sessionB.baseKey)
                    #expect(sessionA.role == (aliceIsSmaller ? .initiator : .responder))
                    #expect(sessionB.role == (aliceIsSmaller ? .responder : .initiator))
                }
            }
        }
    }

    @Test("up --on-message: a command per new text, with sender and id in its environment, never the body")
    func onMessageHook() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let output = homeB.appendingPathComponent("notified.txt")
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                try FileManager.default.createDirectory(at: homeB, withIntermediateDirectories: true)
                let hook = MessageCommandHook(
                    command: "printf '%s %s %s\\n' \"$P2PCHAT_SENDER\" \"$P2PCHAT_MESSAGE_ID\" \"$#\" >> '\(output.path)'", concurrency: 2,
                    logger: quietLogger("hook"))
                let nodeA = makeMailboxNode(alice, retry: RetryTests.fast)
                let nodeB = makeMailboxNode(bob, retry: RetryTests.fast, hook: hook)
                let ids = try await withRunning([nodeA, nodeB]) {
                    try await connect(inviter: nodeB, invitee: alice, as: "bob")
                    let contact = try await alice.contact(named: "bob")
                    var ids: [MessageID] = []
                    for index in 1...5 { ids.append(try await alice.send("secret body \(index)", to: contact).message.id) }
                    nodeA.kick()
                    try await until("five notifications") {
                        (try? String(contentsOf: output, encoding: .utf8))?.split(separator: "\n").count == 5
                    }
                    return ids
                }
                let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init)
                #expect(Set(lines) == Set(ids.map { "alice \($0) 0" }), "one per message; control messages and receipts notify nothing")
                #expect(!(try String(contentsOf: output, encoding: .utf8)).contains("secret"))
                #expect(hook.statistics.failed == 0)
            }
        }
    }
}
