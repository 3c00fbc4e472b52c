import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Multiformats
import Testing

@testable import ChatNode

/// Sends raw envelopes to a node as a given identity, the way a (possibly hostile) peer would.
struct RawSender {
    let host: LibP2P.Host

    func deliver(_ envelope: [UInt8], to address: Multiaddr) async throws -> DeliveryProtocol.Ack {
        let connection = try await host.dial(address)
        let negotiated = try await connection.newStream(protocols: [DeliveryProtocol.protocolID])
        let stream = negotiated.stream
        try await stream.writeLengthPrefixed(DeliveryProtocol.encodeDeliver(envelope))
        let ack = try await DeliveryProtocol.readAck(from: stream)
        await stream.close()
        return ack
    }
}

func withRawSender<T: Sendable>(_ identity: IdentityKeyPair, _ body: @Sendable (RawSender) async throws -> T) async throws -> T {
    let host = LibP2P.Host(configuration: HostConfiguration(identity: identity), logger: quietLogger("raw"))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await host.run() }
        do {
            let result = try await body(RawSender(host: host))
            await host.shutdown()
            try await group.waitForAll()
            return result
        } catch {
            await host.shutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// What a receiver has stored about one contact: every message row and the session version.
struct Snapshot: Equatable {
    var messages: [MessageID]
    var sessionVersion: Int64?
    var contacts: Int

    static func of(_ account: ChatAccount, peer: PeerID) async throws -> Snapshot {
        let contact = try await account.database.contact(peerID: peer)
        let messages = try await contact.asyncMap { try await account.database.messages(contactID: $0.id, limit: 1000).map(\.id) } ?? []
        let version = try await contact.asyncMap { try await account.database.loadSession(contactID: $0.id)?.version } ?? nil
        return Snapshot(messages: messages, sessionVersion: version, contacts: try await account.database.contacts().count)
    }
}

@Suite("Envelopes that must be rejected change nothing")
struct RejectionTests {
    /// Seals the next queued message of `account` to `contactName` without sending it.
    func seal(_ node: ChatNode, next contactName: String) async throws -> (MessageID, [UInt8]) {
        let contact = try await node.account.contact(named: contactName)
        let queued = try await node.account.database.dueOutbox(now: .distantFuture)
            .filter { $0.contactID == contact.id && $0.envelope == nil }
            .sorted { $0.message.seq < $1.message.seq }
        let entry = try #require(queued.first)
        let envelope = try #require(try await node.engine.envelope(for: entry, contact: contact))
        return (entry.message.id, Array(envelope))
    }

    @Test("duplicate, tampered, truncated, wrong-recipient and replayed envelopes")
    func rejections() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                try await withTemporaryHome { homeC in
                    let alice = try await makeAccount(home: homeA, name: "alice")
                    let bob = try await makeAccount(home: homeB, name: "bob")
                    let carol = try await makeAccount(home: homeC, name: "carol")
                    let nodeB = makeNode(bob)
                    // Phase 1: a normal exchange, so alice's session has seen a reply and her
                    // envelopes are ratchet messages from now on.
                    let firstNodeA = makeNode(alice)
                    try await withRunning([firstNodeA, nodeB]) {
                        try await connect(inviter: nodeB, invitee: alice, as: "bob")
                        let first = try await alice.send("zero", to: try alice.contact(named: "bob"))
                        firstNodeA.kick()
                        try await until("first message delivered") {
                            try await alice.database.message(id: first.message.id)?.state == .delivered
                        }
                        // The receipt is recorded a moment before the session it came in is
                        // stored: wait for that too, or stopping now may leave the session
                        // awaiting its first reply (and the next envelopes prekey messages).
                        let bobOnAlice = try await alice.contact(named: "bob")
                        try await until("alice's session has seen bob's reply") {
                            guard let stored = try await alice.database.loadSession(contactID: bobOnAlice.id) else { return false }
                            return try !Session(serialized: Array(stored.state)).isAwaitingFirstReply
                        }
                    }
                    let nodeA = makeNode(alice)  // never run: we deliver its envelopes by hand
                    let nodeB2 = makeNode(bob)
                    try await withRunning([nodeB2]) {
                        let bobAddress = try #require(try await nodeB2.listeningAddresses().first)
                        try await alice.addContact(invite: try await carol.makeInvite(addresses: []), name: "carol")
                        _ = try await alice.send("one", to: try alice.contact(named: "bob"))
                        let (_, one) = try await seal(nodeA, next: "bob")
                        _ = try await alice.send("two", to: try alice.contact(named: "bob"))
                        let (_, two) = try await seal(nodeA, next: "bob")
                        let (_, helloForCarol) = try await seal(nodeA, next: "carol")
                        #expect(one[1] == 2 && two[1] == 2)  // ratchet messages
                        #expect(helloForCarol[1] == 1)  // a prekey message

                        try await withRawSender(alice.identity) { asAlice in
                            #expect(try await asAlice.deliver(one, to: bobAddress).status == .stored)
                            var before = try await Snapshot.of(bob, peer: alice.peerID)

                            // Duplicate: acknowledged as such, stored once.
                            let duplicate = try await asAlice.deliver(one, to: bobAddress)
                            #expect(duplicate.status == .duplicate)
                            #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)
                            #expect(try await bob.texts(with: "alice").map(\.body) == ["zero", "one"])

                            // Tampered: one flipped bit in the header, the header's tag, the body.
                            for index in [20, 60, two.count - 20] {
                                var tampered = two
                                tampered[index] ^= 0x01
                                let ack = try await asAlice.deliver(tampered, to: bobAddress)
                                #expect(ack.status == .rejected)
                                #expect(ack.reason.contains("decryption failed"), "\(ack.reason)")
                                #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)
                            }

                            // Truncated.
                            let truncated = try await asAlice.deliver(Array(two.prefix(two.count - 1)), to: bobAddress)
                            #expect(truncated.status == .rejected)
                            #expect(truncated.reason.contains("malformed envelope"), "\(truncated.reason)")
                            #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)

                            // Wrong recipient: alice's first envelope to carol.
                            let wrong = try await asAlice.deliver(helloForCarol, to: bobAddress)
                            #expect(wrong.status == .rejected)
                            #expect(wrong.reason.contains("wrong recipient"), "\(wrong.reason)")
                            #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)

                            // The untouched envelope still goes through: nothing above changed state.
                            #expect(try await asAlice.deliver(two, to: bobAddress).status == .stored)
                            #expect(try await bob.texts(with: "alice").map(\.body) == ["zero", "one", "two"])
                            before = try await Snapshot.of(bob, peer: alice.peerID)
                            #expect(try await asAlice.deliver(two, to: bobAddress).status == .duplicate)
                            #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)
                        }

                        // Replayed by someone else: the sender is the authenticated peer, not a claim.
                        let before = try await Snapshot.of(bob, peer: alice.peerID)
                        let mallory = IdentityKeyPair.generate()
                        try await withRawSender(mallory) { asMallory in
                            let replayed = try await asMallory.deliver(one, to: bobAddress)
                            #expect(replayed.status == .rejected)
                            #expect(replayed.reason.contains("unknown peer"), "\(replayed.reason)")
                            let replayedFirst = try await asMallory.deliver(helloForCarol, to: bobAddress)
                            #expect(replayedFirst.status == .rejected)
                        }
                        #expect(try await Snapshot.of(bob, peer: alice.peerID) == before)
                        #expect(try await bob.database.contacts().count == 1)
                        #expect(try await bob.database.contact(peerID: mallory.peerID) == nil)
                    }
                }
            }
        }
    }

    @Test("a tampered first (prekey) envelope is rejected and creates no contact")
    func tamperedPreKeyMessage() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let nodeB = makeNode(bob)
                try await withRunning([nodeB]) {
                    let bobAddress = try #require(try await nodeB.listeningAddresses().first)
                    try await connect(inviter: nodeB, invitee: alice, as: "bob")
                    let (_, hello) = try await seal(makeNode(alice), next: "bob")
                    try await withRawSender(alice.identity) { asAlice in
                        for index in [2, 100, hello.count - 1] {
                            var tampered = hello
                            tampered[index] ^= 0x80
                            let ack = try await asAlice.deliver(tampered, to: bobAddress)
                            #expect(ack.status == .rejected, "\(ack.reason)")
                            #expect(try await bob.database.contacts().isEmpty)
                        }
                        #expect(try await asAlice.deliver(hello, to: bobAddress).status == .stored)
                        #expect(try await bob.database.contact(named: "alice")?.peerID == alice.peerID)
                        #expect(try await asAlice.deliver(hello, to: bobAddress).status == .duplicate)
                    }
                }
            }
        }
    }
}
