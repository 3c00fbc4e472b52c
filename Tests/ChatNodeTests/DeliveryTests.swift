import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Multiformats
import Testing

@testable import ChatNode

@Suite("Direct delivery between two in-process nodes")
struct DeliveryTests {
    @Test("add contact, send both ways, states move queued → sent → delivered → read")
    func sendBothWaysWithReceipts() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let nodeA = makeNode(alice)
                let nodeB = makeNode(bob)
                try await withRunning([nodeA, nodeB]) {
                    // Bob adds Alice from her invite; Alice learns "bob" from his hello.
                    try await connect(inviter: nodeA, invitee: bob, as: "alice")
                    let toAlice = try await bob.send("hi alice", to: try bob.contact(named: "alice"))
                    #expect(toAlice.message.state == .queued)
                    nodeB.kick()
                    try await until("alice has bob's message") {
                        (try? await alice.texts(with: "bob").map(\.body)) == ["hi alice"]
                    }
                    try await until("bob's message delivered") {
                        try await bob.database.message(id: toAlice.message.id)?.state == .delivered
                    }
                    let toBob = try await alice.send("hi bob", to: try alice.contact(named: "bob"))
                    nodeA.kick()
                    try await until("alice's reply delivered") {
                        try await alice.database.message(id: toBob.message.id)?.state == .delivered
                    }
                    #expect(try await bob.texts(with: "alice").map(\.body) == ["hi alice", "hi bob"])
                    // Alice reads: a read receipt goes back.
                    #expect(try await alice.markRead(try alice.contact(named: "bob")) == 1)
                    nodeA.kick()
                    try await until("bob's message read") {
                        try await bob.database.message(id: toAlice.message.id)?.state == .read
                    }
                    // Receipts and control messages are not shown.
                    #expect(try await alice.texts(with: "bob").count == 2)
                    #expect(try await alice.outboxCounts()[.queued] == nil)
                }
            }
        }
    }
}

@Suite("Addresses and presence")
struct AddressTests {
    @Test("a node that comes up on a new port tells its contacts inside the session")
    func addressChangeReachesContacts() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let firstPort = try await freePort()
                try await bob.database.setListenPort(UInt16(firstPort))
                let alicePort = try await freePort()
                try await alice.database.setListenPort(UInt16(alicePort))  // her hello tells bob
                let aliceAddress = try Multiaddr("/ip4/127.0.0.1/tcp/\(alicePort)")
                // Alice's node runs throughout (its port is never released, so no other test can
                // take it); only Bob's node restarts, on another port.
                let nodeA = makeNode(alice, retry: RetryTests.fast, listen: [aliceAddress])
                let nodeB = makeNode(bob, listen: [try Multiaddr("/ip4/127.0.0.1/tcp/\(firstPort)")], announces: true)
                try await withRunning([nodeA]) {
                    try await withRunning([nodeB]) {
                        try await connect(inviter: nodeB, invitee: alice, as: "bob")
                        nodeA.kick()
                        try await until("bob knows alice") { try await bob.database.contact(named: "alice") != nil }
                        try await until("alice online at bob") { nodeB.onlinePeers.contains(alice.peerID) }
                    }
                    #expect(try await alice.contact(named: "bob").addresses.map(\.description) == ["/ip4/127.0.0.1/tcp/\(firstPort)"])
                    // Bob restarts on another port (any free one: a port picked in advance could be
                    // taken by a parallel test): Alice hears about it through the session.
                    let movedB = makeNode(bob, retry: RetryTests.fast, listen: [try Multiaddr("/ip4/127.0.0.1/tcp/0")], announces: true)
                    try await withRunning([movedB]) {
                        let moved = try await movedB.listeningAddresses().map { $0.removingPeerID().description }
                        #expect(moved != ["/ip4/127.0.0.1/tcp/\(firstPort)"])
                        do {
                            try await until("alice has bob's new address", timeout: .seconds(30)) {
                                try await alice.contact(named: "bob").addresses.map(\.description) == moved
                            }
                        } catch {
                            let outbox = try await bob.database.dueOutbox(now: .distantFuture, limit: 100)
                            for entry in outbox {
                                print("DEBUG outbox", entry.message.seq, entry.message.kind, entry.message.state, entry.attempts, entry.message.error ?? "-", entry.envelope != nil)
                            }
                            let bobContact = try await bob.contact(named: "alice")
                            for m in try await bob.database.messages(contactID: bobContact.id, limit: 100, before: nil) {
                                print("DEBUG bob", m.direction, m.seq, m.kind, m.state, m.error ?? "-", m.body.prefix(120))
                            }
                            let aliceContact = try await alice.contact(named: "bob")
                            for m in try await alice.database.messages(contactID: aliceContact.id, limit: 100, before: nil) {
                                print("DEBUG alice", m.direction, m.seq, m.kind, m.state, m.error ?? "-", m.body.prefix(120))
                            }
                            print("DEBUG alice's bob addresses", aliceContact.addresses, "moved", moved)
                            throw error
                        }
                        #expect(try await bob.profile().listenPort.map { "/ip4/127.0.0.1/tcp/\($0)" } == moved.first)
                    }
                }
                #expect(try await bob.texts(with: "alice").isEmpty)  // control messages are not shown
            }
        }
    }
}

@Suite("Retries and expiry")
struct RetryTests {
    static let fast = RetryPolicy(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(300), multiplier: 2, jitter: 0.5)

    @Test("offline recipient: retries with backoff, then delivery once it comes online")
    func offlineThenOnline() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let port = try await freePort()
                let bobAddress = try Multiaddr("/ip4/127.0.0.1/tcp/\(port)")
                let invite = try await bob.makeInvite(addresses: [bobAddress])
                try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
                let queued = try await alice.send("are you there?", to: try alice.contact(named: "bob"))
                let nodeA = makeNode(alice, retry: Self.fast)
                try await withRunning([nodeA]) {
                    try await until("several failed attempts") {
                        (try await alice.outboxHead()?.attempts ?? 0) >= 3
                    }
                    let head = try #require(try await alice.outboxHead())
                    #expect(head.message.kind == .control)  // the hello goes first, in order
                    #expect(head.message.error?.contains("unreachable") == true)
                    #expect(try await alice.database.message(id: queued.message.id)?.state == .queued)
                    let nodeB = makeNode(bob, listen: [bobAddress])
                    try await withRunning([nodeB]) {
                        try await until("delivered once bob is online") {
                            try await alice.database.message(id: queued.message.id)?.state == .delivered
                        }
                        #expect(try await bob.texts(with: "alice").map(\.body) == ["are you there?"])
                    }
                }
            }
        }
    }

    @Test("TTL: an undeliverable message becomes failed(expired)")
    func expiry() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let clock = TestClock()
                let alice = try await makeAccount(home: homeA, name: "alice", clock: clock.function)
                let bob = try await makeAccount(home: homeB, name: "bob")
                let invite = try await bob.makeInvite(addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/\(try await freePort())")])
                try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
                let queued = try await alice.send("too late", to: try alice.contact(named: "bob"))
                let nodeA = makeNode(alice, retry: Self.fast)
                try await withRunning([nodeA]) {
                    try await until("a failed attempt") {
                        (try await alice.outboxHead()?.attempts ?? 0) >= 1
                    }
                    #expect(try await alice.database.message(id: queued.message.id)?.state == .queued)
                    clock.advance(by: 7 * 24 * 3600 + 1)
                    nodeA.kick()
                    try await until("expired") {
                        try await alice.database.message(id: queued.message.id)?.state == .failed(.expired)
                    }
                    #expect(try await alice.outboxCounts()[.queued] == nil)
                }
            }
        }
    }
}

/// A TCP port free on 127.0.0.1 right now.
func freePort() async throws -> Int {
    let listener = try await TCPTransport().listen(host: "127.0.0.1", port: 0)
    let port = try #require(listener.localAddress.port)
    try? await listener.channel.close()
    return port
}

extension ChatAccount {
    /// The first queued message in sequence order (the one the engine retries).
    func outboxHead() async throws -> OutboxEntry? {
        try await database.dueOutbox(now: .distantFuture).min { $0.message.seq < $1.message.seq }
    }
}
