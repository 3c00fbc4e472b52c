import ChatNode
import ChatStore
import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import Synchronization
import Testing

@testable import ChatWeb

@Suite("Events: snapshot diffs and the /ws stream")
struct EventTests {
    private func message(_ id: String, _ state: String, contactID: Int64 = 1, seq: Int64 = 1) -> MessageJSON {
        let text = """
            {"id":"\(id)","contactID":\(contactID),"direction":"out","seq":\(seq),"kind":"text","body":"x","sentAt":1,
             "state":{"kind":"\(state)"},"stateChangedAt":1,"attempts":0}
            """
        return try! JSONDecoder().decode(MessageJSON.self, from: Data(text.utf8))
    }

    private func contact(_ id: Int64, online: Bool, unread: Int = 0) -> ContactJSON {
        ContactJSON(id: id, name: "c\(id)", peerID: "p\(id)", online: online, unread: unread, addresses: [], createdAt: 0, lastSeenAt: nil, lastMessage: nil)
    }

    @Test("a diff names new messages, state changes, presence, the contact list and the queue")
    func diff() throws {
        let old = ChangeSnapshot(
            contacts: [contact(1, online: false)], messages: [1: ["a": message("a", "queued")]], queue: ["queued": 1])
        var new = old
        #expect(new.events(since: old).isEmpty)
        new.contacts = [contact(1, online: true, unread: 1)]
        new.messages[1] = ["a": message("a", "sent"), "b": message("b", "delivered", seq: 2)]
        new.queue = [:]
        let events = new.events(since: old)
        #expect(events.map(\.type) == ["presence", "contacts", "message", "state", "queue"])
        #expect(events[0] == .presence(contactID: 1, peerID: "p1", online: true))
        if case .message(let added) = events[2] { #expect(added.id == "b") } else { Issue.record("no message event") }
        if case .state(let changed) = events[3] { #expect(changed.state.kind == "sent") } else { Issue.record("no state event") }
        #expect(try events[0].json() == #"{"contactID":1,"online":true,"peerID":"p1","type":"presence"}"#)
    }

    @Test("a socket's greeting waits for the monitor's baseline; shutdown releases it too")
    func greetingWaitsForBaseline() async throws {
        let hub = EventHub()
        let greeted = Mutex(false)
        let waiter = Task {
            await hub.waitUntilReady()
            greeted.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!greeted.withLock { $0 })
        hub.markReady()
        await waiter.value
        #expect(greeted.withLock { $0 })
        await hub.waitUntilReady()  // once ready, at once
        let closing = EventHub()
        let released = Task { await closing.waitUntilReady() }
        closing.finish()
        await released.value
    }

    @Test("the socket needs the token and our Origin")
    func socketRefusals() async throws {
        try await withTemporaryHome { home in
            let node = try await makeNode(home: home, name: "alice")
            let server = try makeServer(node: node, home: home)
            try await withRunning([node]) {
                try await server.makeApplication(port: 0).test(.live) { client in
                    await #expect(throws: (any Error).self) {
                        try await client.ws("/ws") { _, _, _ in }
                    }
                    await #expect(throws: (any Error).self) {
                        try await client.ws("/ws?token=\(AccessToken.random().value)") { _, _, _ in }
                    }
                    await #expect(throws: (any Error).self) {
                        try await client.ws("/ws?token=\(server.token.value)", configuration: .init(additionalHeaders: [.origin: "http://evil.example"])) { _, _, _ in }
                    }
                }
            }
        }
    }

    @Test("two nodes: Alice's socket sees her message, then its ticks: sent → delivered → read", .timeLimit(.minutes(1)))
    func liveTicks() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeNode(home: homeA, name: "alice")
                let bob = try await makeNode(home: homeB, name: "bob")
                let serverA = try makeServer(node: alice, home: homeA)
                let serverB = try makeServer(node: bob, home: homeB)
                try await withRunning([alice, bob]) {
                    let invite = try await bob.account.makeInvite(addresses: try await bob.listeningAddresses().map { $0.removingPeerID() })
                    let bobContact = try await alice.account.addContact(invite: try alice.account.parseInvite(invite.text), name: "bob")
                    let states = Mutex<[String]>([])
                    _ = try await serverA.makeApplication(port: 0).test(.live) { clientA in
                        try await serverB.makeApplication(port: 0).test(.router) { clientB in
                            try await clientA.ws("/ws?token=\(serverA.token.value)") { inbound, _, _ in
                                var frames = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                                let hello = try await frames.next()
                                guard case .text(let helloText) = hello else { throw TestFailure("no hello frame") }
                                #expect(helloText.contains(#""type":"hello""#))
                                let sent = try await clientA.execute(
                                    uri: "/api/contacts/\(bobContact.id.rawValue)/messages", method: .post,
                                    headers: authorized(serverA), body: try json(["text": "hi bob"])
                                ) { try decode(MessageJSON.self, $0) }
                                // Await the events: the new message, then state changes up to delivered.
                                do {
                                    while let frame = try await frames.next() {
                                        guard case .text(let text) = frame, let event = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                                              let message = event["message"] as? [String: Any], message["id"] as? String == sent.id,
                                              let state = (message["state"] as? [String: Any])?["kind"] as? String else { continue }
                                        states.withLock { $0.append("\(event["type"]!):\(state)") }
                                        if state == "delivered" { break }
                                    }
                                }
                                // Bob opens the conversation in his UI: a read receipt goes back.
                                let aliceOnBob = try #require(try await bob.account.database.contact(peerID: alice.peerID))
                                try await clientB.execute(uri: "/api/contacts/\(aliceOnBob.id.rawValue)/read", method: .post, headers: authorized(serverB)) { response throws in
                                    #expect(try decode(ReadJSON.self, response).marked == 1)
                                }
                                do {
                                    while let frame = try await frames.next() {
                                        guard case .text(let text) = frame, text.contains(sent.id), text.contains(#""kind":"read""#) else { continue }
                                        states.withLock { $0.append("state:read") }
                                        break
                                    }
                                }
                            }
                        }
                    }
                    let seen = states.withLock { $0 }
                    #expect(seen.first?.hasPrefix("message:") == true)  // its state may already be past `sent` when the monitor looks
                    #expect(seen.contains("state:delivered"))
                    #expect(seen.last == "state:read")
                }
            }
        }
    }
}

