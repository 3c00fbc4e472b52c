import Foundation
import Multiformats
import Testing
@testable import ChatStore

@Suite struct ContactTests {
    @Test func addsAndFindsContacts() async throws {
        try await withDatabase { database, _ in
            let peer = makePeerID()
            let address = try Multiaddr("/ip4/127.0.0.1/tcp/4001")
            let added = try await database.addContact(
                name: "  Alice ", peerID: peer, addresses: [address], preKeyBundle: Data([9, 9]), mailboxes: [Data([1, 2])], now: epoch)
            #expect(added.displayName == "Alice")
            #expect(try await database.contact(named: "ALICE") == added)
            #expect(try await database.contact(peerID: peer) == added)
            #expect(try await database.contact(id: added.id) == added)
            #expect(added.addresses == [address])
            #expect(added.mailboxes == [Data([1, 2])])
            #expect(added.preKeyBundle == Data([9, 9]))
            #expect(try await database.conversation(contactID: added.id).id == added.conversationID)
            #expect(try await database.contact(named: "bob") == nil)
        }
    }

    @Test func rejectsDuplicateNamesAndPeers() async throws {
        try await withDatabase { database, _ in
            let alice = try await database.addContact(name: "Élodie", peerID: makePeerID(), now: epoch)
            let sameName = await storeErrorCode { _ = try await database.addContact(name: "élodie", peerID: makePeerID()) }
            #expect(sameName == .duplicateContact)
            let samePeer = await storeErrorCode { _ = try await database.addContact(name: "other", peerID: alice.peerID) }
            #expect(samePeer == .duplicateContact)
            let empty = await storeErrorCode { _ = try await database.addContact(name: "  ", peerID: makePeerID()) }
            #expect(empty == .invalidArgument)
            let control = await storeErrorCode { _ = try await database.addContact(name: "a\u{7}b", peerID: makePeerID()) }
            #expect(control == .invalidArgument)
            #expect(try await database.contacts().count == 1)
        }
    }

    @Test func updatesAndRemovesContacts() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let addresses = [try Multiaddr("/ip4/10.0.0.1/tcp/1"), try Multiaddr("/ip6/::1/tcp/2")]
            try await database.updateContactAddresses(contactID: contact.id, addresses: addresses)
            try await database.updateContactMailboxes(contactID: contact.id, mailboxes: [Data([7]), Data()])
            try await database.updateContactPreKeyBundle(contactID: contact.id, bundle: nil)
            try await database.updateContactLastSeen(contactID: contact.id, at: at(100))
            try await database.updateContactLastSeen(contactID: contact.id, at: at(50))
            let updated = try #require(try await database.contact(id: contact.id))
            #expect(updated.addresses == addresses)
            #expect(updated.mailboxes == [Data([7]), Data()])
            #expect(updated.lastSeenAt == at(100))

            try await database.saveSession(contactID: contact.id, state: Data([1]), expectedVersion: nil)
            let queued = try await database.enqueueOutgoing(contactID: contact.id, body: "bye", now: epoch)
            try await database.removeContact(contactID: contact.id)
            #expect(try await database.contacts().isEmpty)
            #expect(try await database.loadSession(contactID: contact.id) == nil)
            #expect(try await database.message(id: queued.message.id) == nil)
            #expect(try await database.dueOutbox(now: at(1)).isEmpty)
            #expect(try await database.search(words: "bye").isEmpty)
            let again = await storeErrorCode { try await database.removeContact(contactID: contact.id) }
            #expect(again == .notFound)
            let update = await storeErrorCode { try await database.updateContactMailboxes(contactID: contact.id, mailboxes: []) }
            #expect(update == .notFound)
        }
    }
}
