import ChatNode
import ChatStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ChatWeb

@Suite("Attachments and storage through the API")
struct AttachmentTests {
    /// The messages of a contact as loose JSON.
    private func messages(_ client: some TestClientProtocol, _ server: ChatWebServer, contactID: Int64) async throws -> [MessageJSON] {
        try await client.execute(uri: "/api/contacts/\(contactID)/messages", method: .get, headers: authorized(server)) { response in
            try decode(MessagePageJSON.self, response).messages
        }
    }

    @Test("a file uploaded on Alice's page reaches Bob's, downloads byte-exact, and old ones are deleted", .timeLimit(.minutes(1)))
    func roundTrip() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeNode(home: homeA, name: "alice")
                let bob = try await makeNode(home: homeB, name: "bob")
                let serverA = try ChatWebServer(
                    node: alice, home: homeA, token: AccessToken.random(), port: 0, uploadLimit: 1_000_000,
                    monitorInterval: .milliseconds(200), logger: quietLogger("web"), onListening: { _ in })
                let serverB = try makeServer(node: bob, home: homeB)
                let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
                let name = "report \"final\" é.bin"
                try await withRunning([alice, bob]) {
                    let invite = try await bob.account.makeInvite(addresses: try await bob.listeningAddresses().map { $0.removingPeerID() })
                    let bobContact = try await alice.account.addContact(invite: try alice.account.parseInvite(invite.text), name: "bob")
                    try await serverA.makeApplication(port: 0).test(.router) { clientA in
                        try await serverB.makeApplication(port: 0).test(.router) { clientB in
                            // Refusals: no name, a declared size over the limit.
                            try await clientA.execute(
                                uri: "/api/contacts/\(bobContact.id.rawValue)/files", method: .post, headers: authorized(serverA),
                                body: ByteBuffer(bytes: [1, 2, 3])
                            ) { #expect($0.status == .badRequest) }
                            try await clientA.execute(
                                uri: "/api/contacts/\(bobContact.id.rawValue)/files", method: .post,
                                headers: authorized(serverA, [.p2pchatFileName: "big"]),
                                body: ByteBuffer(repeating: 1, count: 1_000_001)
                            ) { #expect($0.status == .contentTooLarge) }
                            let uploads = homeA.appendingPathComponent(ChatWebBackend.uploadDirectoryName).path
                            #expect((try? FileManager.default.contentsOfDirectory(atPath: uploads))?.isEmpty ?? true)

                            let encodedName = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                            let sent = try await clientA.execute(
                                uri: "/api/contacts/\(bobContact.id.rawValue)/files", method: .post,
                                headers: authorized(serverA, [.p2pchatFileName: encodedName, .p2pchatCaption: "the%20numbers"]),
                                body: ByteBuffer(bytes: bytes)
                            ) { response in
                                #expect(response.status == .created)
                                let text = String(buffer: response.body)
                                #expect(!text.contains("\"key\""))
                                return try object(response)
                            }
                            let sentID = try #require(sent["id"] as? String)
                            let card = try #require(sent["attachment"] as? [String: Any])
                            #expect(card["name"] as? String == name.replacingOccurrences(of: "\"", with: "_"))
                            #expect(card["size"] as? Int == bytes.count)
                            #expect(card["state"] as? String == "done")
                            #expect(card["caption"] as? String == "the numbers")
                            // The stored body (which holds the key) never reaches the page.
                            let record = try #require(try await alice.account.database.attachment(messageID: try MessageID(hex: sentID)))
                            let stored = try #require(try await alice.account.database.message(id: try MessageID(hex: sentID)))
                            let key = try AttachmentContent(parsing: stored.body).key
                            #expect(!(sent["body"] as? String ?? "").contains(key))
                            #expect(record.direction == .outgoing)

                            // Bob's page: the card appears and reaches done.
                            let aliceOnBob = try await withDeadline("Bob's contact for Alice") {
                                while true {
                                    if let contact = try await bob.account.database.contact(peerID: alice.peerID) { return contact }
                                    try await Task.sleep(for: .milliseconds(50))
                                }
                            }
                            let received = try await withDeadline("Bob's attachment done") {
                                while true {
                                    let list = try await messages(clientB, serverB, contactID: aliceOnBob.id.rawValue)
                                    if let message = list.first(where: { $0.id == sentID }), message.attachment?.state == "done" { return message }
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                            let done = try #require(received.attachment)
                            #expect(done.bytesDone == done.bytesTotal)
                            #expect(done.downloadable)
                            #expect(received.direction == "in")

                            try await clientB.execute(uri: "/api/messages/\(sentID)/attachment", method: .get, headers: authorized(serverB)) { response in
                                #expect(response.status == .ok)
                                #expect(Array(response.body.readableBytesView) == bytes)
                                let disposition = response.headers[.contentDisposition] ?? ""
                                #expect(disposition.hasPrefix("attachment; filename=\"report _final_ _.bin\""))
                                #expect(disposition.contains("filename*=UTF-8''report%20_final_%20%C3%A9.bin"))
                            }
                            // The token guards downloads too.
                            try await clientB.execute(uri: "/api/messages/\(sentID)/attachment", method: .get) { #expect($0.status == .unauthorized) }

                            // Storage lists it; "delete old attachments" removes Bob's file and keeps the message.
                            let storage = try await clientB.execute(uri: "/api/storage", method: .get, headers: authorized(serverB)) { try decode(StorageJSON.self, $0) }
                            #expect(storage.attachments.map(\.messageID).contains(sentID))
                            #expect(storage.attachments.first { $0.messageID == sentID }?.localBytes == Int64(bytes.count))
                            #expect(storage.blockstore.diskBytes >= storage.blockstore.bytes - 64 << 10)
                            let deleted = try await clientB.execute(
                                uri: "/api/storage/attachments/delete", method: .post, headers: authorized(serverB), body: try json(["olderThanDays": 0])
                            ) { try decode(DeletedAttachmentsJSON.self, $0) }
                            #expect(deleted.deleted.map(\.messageID) == [sentID])
                            #expect(deleted.freedBytes == Int64(bytes.count))
                            // Bob's encrypted copy of the blob (at least the file's size) left his block store.
                            #expect((deleted.freedBlockBytes ?? 0) >= Int64(bytes.count))
                            #expect(deleted.deleted.allSatisfy { $0.state == "deleted" })
                            let path = try #require(try await bob.account.database.attachment(messageID: try MessageID(hex: sentID))?.localPath)
                            #expect(!FileManager.default.fileExists(atPath: path))
                            let after = try await messages(clientB, serverB, contactID: aliceOnBob.id.rawValue)
                            let kept = try #require(after.first(where: { $0.id == sentID }))
                            #expect(kept.attachment?.state == "deleted")
                            try await clientB.execute(uri: "/api/messages/\(sentID)/attachment", method: .get, headers: authorized(serverB)) {
                                #expect($0.status == .conflict)
                            }
                            // Alice's own upload stays (only received files are deleted).
                            let aliceDeleted = try await clientA.execute(
                                uri: "/api/storage/attachments/delete", method: .post, headers: authorized(serverA), body: try json(["olderThanDays": 0])
                            ) { try decode(DeletedAttachmentsJSON.self, $0) }
                            #expect(aliceDeleted.deleted.isEmpty)
                        }
                    }
                }
            }
        }
    }

    @Test("mailboxes: none in use gives an empty list with a note")
    func noMailboxes() async throws {
        try await withTemporaryHome { home in
            let node = try await makeNode(home: home, name: "alice")
            let server = try makeServer(node: node, home: home)
            try await server.makeApplication(port: 0).test(.router) { client in
                let list = try await client.execute(uri: "/api/mailboxes", method: .get, headers: authorized(server)) { try decode(MailboxListJSON.self, $0) }
                #expect(list.mailboxes.isEmpty)
                #expect(list.note?.contains("mailbox use") == true)
            }
        }
    }

    @Test("mailboxes: one that cannot be asked is listed with its queues and unknown counts")
    func unreachableMailbox() async throws {
        try await withTemporaryHome { home in
            let node = try await makeNode(home: home, name: "alice")
            let server = try makeServer(node: node, home: home)
            let address = "/ip4/127.0.0.1/tcp/9/p2p/\(node.peerID)"
            try await node.account.database.addMailbox(address: address)
            try await node.account.database.addMailboxQueue(
                mailbox: address, queueID: Data([1, 2, 3]), contactID: nil, credentials: Data([0xFF]), announced: false)
            try await server.makeApplication(port: 0).test(.router) { client in
                let list = try await client.execute(uri: "/api/mailboxes", method: .get, headers: authorized(server)) { try decode(MailboxListJSON.self, $0) }
                #expect(list.mailboxes.map(\.address) == [address])
                #expect(list.mailboxes.first?.reachable == false)
                #expect(list.mailboxes.first?.queues.count == 1)
                #expect(list.mailboxes.first?.queues.first?.quotaBytes == nil)
                #expect(list.mailboxes.first?.usedBytes == nil)
                #expect(list.note?.contains("unknown") == true)
                let storage = try await client.execute(uri: "/api/storage", method: .get, headers: authorized(server)) { try decode(StorageJSON.self, $0) }
                #expect(storage.mailboxes.map(\.address) == [address])
            }
        }
    }
}

