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
