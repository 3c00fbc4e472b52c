import ChatStore
import Foundation
import LibP2P
import Multiformats
import Testing

@testable import ChatNode

@Suite("A contact whose session was never stored")
struct MissingSessionTests {
    /// A node that stops after storing the contact a peer's first message made and before storing
    /// the session that message started (they are separate writes) keeps a contact without a
    /// session; the peer resends that message, since it was never acknowledged. Until it arrives,
    /// messages to the contact must wait, not fail: this is how the address-change test flaked
    /// (Bob's announcement became `failed(unsealable)` and never reached Alice).
    @Test("messages to it stay queued, and go out once the peer's first message starts the session")
    func messagesWaitForTheSession() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let bobAddress = try Multiaddr("/ip4/127.0.0.1/tcp/\(try await freePort())")
                let aliceAddress = try Multiaddr("/ip4/127.0.0.1/tcp/\(try await freePort())")
                // Alice adds Bob from his invite: her first message (a prekey message) is queued.
                let invite = try await bob.makeInvite(addresses: [bobAddress])
                try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
                // Bob's node stored Alice as a contact from it, then stopped before the session.
                let aliceOnBob = try await bob.database.addContact(name: "alice", peerID: alice.peerID, addresses: [aliceAddress])
                #expect(try await bob.database.loadSession(contactID: aliceOnBob.id) == nil)
                let hello = try await bob.send("hello alice", to: aliceOnBob)

                let nodeB = makeNode(bob, listen: [bobAddress])  // default backoff: the session wakes it
                let entry = try #require(try await bob.outboxHead())
                await #expect(throws: DeliveryEngine.AwaitingSession.self) {
                    _ = try await nodeB.engine.envelope(for: entry, contact: aliceOnBob)
                }
                #expect(try await bob.database.message(id: hello.message.id)?.state == .queued)

                let nodeA = makeNode(alice, listen: [aliceAddress])
                try await withRunning([nodeB, nodeA]) {
                    try await until("alice has bob's message") {
                        (try? await alice.texts(with: "bob").map(\.body)) == ["hello alice"]
                    }
                    try await until("bob's message delivered") {
                        try await bob.database.message(id: hello.message.id)?.state == .delivered
                    }
                }
                #expect(try await bob.database.loadSession(contactID: aliceOnBob.id) != nil)
            }
        }
    }
}
