import ChatNode
import ChatStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ChatWeb

@Suite("JSON API")
struct APITests {
    /// Alice's node with Bob as a contact (added from Bob's invite; Bob's node is not running).
    private func withAliceAndBob(_ body: @escaping @Sendable (ChatWebServer, any TestClientProtocol, Int64) async throws -> Void) async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeNode(home: homeA, name: "alice")
                let bob = try await makeNode(home: homeB, name: "bob")
                let invite = try await bob.account.makeInvite(addresses: [try .init("/ip4/127.0.0.1/tcp/9")])
                let server = try makeServer(node: alice, home: homeA)
                try await server.makeApplication(port: 0).test(.router) { client in
                    let contact = try await client.execute(
                        uri: "/api/contacts", method: .post, headers: authorized(server),
                        body: try json(["invite": invite.text, "name": "Bob"])
                    ) { response in
                        #expect(response.status == .created)
                        return try decode(ContactJSON.self, response)
                    }
                    #expect(contact.name == "Bob")
                    #expect(contact.peerID == bob.peerID.description)
                    #expect(contact.online == false)
                    #expect(contact.unread == 0)
                    try await body(server, client, contact.id)
                }
            }
        }
    }

    @Test("status, contacts and invite have the documented shapes")
    func shapes() async throws {
        try await withAliceAndBob { server, client, bobID in
            let status = try await client.execute(uri: "/api/status", method: .get, headers: authorized(server)) { try object($0) }
            #expect(status["name"] as? String == "alice")
            #expect((status["peerID"] as? String)?.hasPrefix("12D3KooW") == true)
            #expect(status["contacts"] as? Int == 1)
            #expect(status["outbox"] is [String: Any])
            #expect(status["onlinePeers"] is [Any])

            let list = try await client.execute(uri: "/api/contacts", method: .get, headers: authorized(server)) {
                try decode(ContactListJSON.self, $0)
            }
            #expect(list.contacts.map(\.id) == [bobID])
            #expect(list.contacts[0].lastMessage == nil)  // the hello control message is not shown

            let invite = try await client.execute(uri: "/api/invite", method: .post, headers: authorized(server)) { response in
                #expect(response.status == .ok)
                return try object(response)
            }
            #expect((invite["text"] as? String)?.hasPrefix("p2pchat:") == true)
            #expect(invite["peerID"] as? String == status["peerID"] as? String)
            #expect((invite["expiresAt"] as? Int64 ?? 0) > (invite["createdAt"] as? Int64 ?? .max))

            let mailboxes = try await client.execute(uri: "/api/mailboxes", method: .get, headers: authorized(server)) { try object($0) }
            #expect((mailboxes["mailboxes"] as? [Any])?.isEmpty == true)

            let storage = try await client.execute(uri: "/api/storage", method: .get, headers: authorized(server)) { try object($0) }
            let database = try #require(storage["database"] as? [String: Any])
            #expect((database["bytes"] as? Int ?? 0) > 0)
            #expect(storage["attachments"] is [Any])
            #expect(storage["blockstore"] is [String: Any])
            try await client.execute(
                uri: "/api/storage/attachments/delete", method: .post, headers: authorized(server), body: try json(["olderThanDays": 30])
            ) { response throws in
                #expect(response.status == .ok)
                #expect(try object(response)["freedBytes"] as? Int == 0)
            }
        }
    }

    @Test("send: the message is queued, listed with its state, counted in the queue, and can be cancelled")
    func sendAndQueue() async throws {
        try await withAliceAndBob { server, client, bobID in
            let sent = try await client.execute(
                uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server), body: try json(["text": "hello bob"])
            ) { response in
                #expect(response.status == .created)
                return try decode(MessageJSON.self, response)
            }
            #expect(sent.body == "hello bob")
            #expect(sent.direction == "out")
            #expect(sent.state.kind == "queued")
            #expect(sent.id.count == 32)

            let page = try await client.execute(uri: "/api/contacts/\(bobID)/messages", method: .get, headers: authorized(server)) {
                try decode(MessagePageJSON.self, $0)
            }
            #expect(page.messages.map(\.id) == [sent.id])
            #expect(page.messages[0].state.kind == "queued")
            #expect(page.hasMore == false)

            let queue = try await client.execute(uri: "/api/queue", method: .get, headers: authorized(server)) { try decode(QueueJSON.self, $0) }
            #expect(queue.items.map(\.message.id) == [sent.id])
            #expect(queue.items[0].contactName == "Bob")
            #expect(queue.counts["queued"] == 1)

            // A reply to it, then cancel the first.
            let reply = try await client.execute(
                uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server),
                body: try json(["text": "and a reply", "replyTo": sent.id])
            ) { try decode(MessageJSON.self, $0) }
            #expect(reply.replyTo == sent.id)

            let cancelled = try await client.execute(uri: "/api/messages/\(sent.id)/cancel", method: .post, headers: authorized(server)) { response in
                #expect(response.status == .ok)
                return try decode(MessageJSON.self, response)
            }
            #expect(cancelled.state.kind == "failed")
            #expect(cancelled.state.reason == "cancelled")
            let after = try await client.execute(uri: "/api/queue", method: .get, headers: authorized(server)) { try decode(QueueJSON.self, $0) }
            #expect(after.items.map(\.message.id) == [reply.id])
            // Cancelling twice is a conflict; retrying a failed message sends it again.
            try await client.execute(uri: "/api/messages/\(sent.id)/cancel", method: .post, headers: authorized(server)) { response in
                #expect(response.status == .conflict)
            }
            let again = try await client.execute(uri: "/api/messages/\(sent.id)/retry", method: .post, headers: authorized(server)) {
                try decode(MessageJSON.self, $0)
            }
            #expect(again.id != sent.id)
            #expect(again.body == "hello bob")
            #expect(again.state.kind == "queued")
        }
    }

    @Test("paging with before/limit walks back through the conversation")
    func paging() async throws {
        try await withAliceAndBob { server, client, bobID in
            var ids: [String] = []
            for index in 1...7 {
                let message = try await client.execute(
                    uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server), body: try json(["text": "message \(index)"])
                ) { try decode(MessageJSON.self, $0) }
                ids.append(message.id)
            }
            var seen: [String] = []
            var before: String?
            var pages = 0
            repeat {
                let uri = "/api/contacts/\(bobID)/messages?limit=3" + (before.map { "&before=\($0)" } ?? "")
                let page = try await client.execute(uri: uri, method: .get, headers: authorized(server)) { try decode(MessagePageJSON.self, $0) }
                seen.insert(contentsOf: page.messages.map(\.id), at: 0)
                pages += 1
                before = page.hasMore ? page.messages.first?.id : nil
            } while before != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == ids)
            try await client.execute(uri: "/api/contacts/\(bobID)/messages?limit=0", method: .get, headers: authorized(server)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/contacts/\(bobID)/messages?before=zz", method: .get, headers: authorized(server)) { response in
                #expect(response.status == .badRequest)
            }
            // Search finds a message and names its contact.
            let search = try await client.execute(uri: "/api/search?q=message%205", method: .get, headers: authorized(server)) {
                try decode(SearchJSON.self, $0)
            }
            #expect(search.results.first?.message.id == ids[4])
            #expect(search.results.first?.contactName == "Bob")
        }
    }

    @Test("bad input: unknown contact 404, empty text 400, bad JSON 400, file upload without a name 400, foreign reply 400")
    func badInput() async throws {
        try await withAliceAndBob { server, client, bobID in
            try await client.execute(uri: "/api/contacts/999/messages", method: .post, headers: authorized(server), body: try json(["text": "x"])) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server), body: try json(["text": "  "])) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server), body: ByteBuffer(string: "{")) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(
                uri: "/api/contacts/\(bobID)/messages", method: .post, headers: authorized(server),
                body: try json(["text": "x", "replyTo": String(repeating: "0", count: 32)])
            ) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/contacts/\(bobID)/files", method: .post, headers: authorized(server)) { response in
                #expect(response.status == .badRequest)
                let error = try #require(try object(response)["error"] as? [String: Any])
                #expect((error["message"] as? String)?.contains("X-P2PChat-File-Name") == true)
            }
            try await client.execute(
                uri: "/api/contacts", method: .post, headers: authorized(server), body: try json(["invite": "p2pchat:garbage", "name": "X"])
            ) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/messages/\(String(repeating: "a", count: 32))/retry", method: .post, headers: authorized(server)) {
                #expect($0.status == .notFound)
            }
        }
    }
}
