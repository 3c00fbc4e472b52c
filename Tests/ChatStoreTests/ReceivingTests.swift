import Foundation
import Testing
@testable import ChatStore

@Suite struct ReceivingTests {
    @Test func storesOnceAndReportsDuplicates() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let id = MessageID.random()
            let stored = try await database.storeIncoming(
                contactID: contact.id, messageID: id, seq: 1, body: "hello", sentAt: epoch,
                sessionState: Data([1]), expectedSessionVersion: nil, now: at(2))
            #expect(stored.outcome == .stored)
            #expect(stored.sessionVersion == 1)

            // The same message again (via a mailbox after a direct delivery): nothing changes.
            let duplicate = try await database.storeIncoming(
                contactID: contact.id, messageID: id, seq: 1, body: "hello", sentAt: epoch,
                sessionState: Data([2]), expectedSessionVersion: 1, now: at(3))
            #expect(duplicate.outcome == .duplicate)
            #expect(duplicate.messageID == id)
            #expect(try await database.loadSession(contactID: contact.id)?.state == Data([1]))
            let messages = try await database.messages(contactID: contact.id)
            #expect(messages.count == 1)
            let message = try #require(messages.first)
            #expect(message.direction == .incoming)
            #expect(message.senderContactID == contact.id)
            #expect(message.state == .delivered)
            #expect(message.receivedAt == at(2))
            #expect(try await database.contact(id: contact.id)?.lastSeenAt == at(2))
        }
    }

    @Test func conflictingSequenceOrIDStoresNothing() async throws {
        try await withDatabase { database, _ in
            let alice = try await addContact(database, "alice")
            let bob = try await addContact(database, "bob")
            let id = MessageID.random()
            _ = try await database.storeIncoming(
                contactID: alice.id, messageID: id, seq: 1, body: "a", sentAt: epoch,
                sessionState: Data([1]), expectedSessionVersion: nil)
            let sameSeq = await storeErrorCode {
                _ = try await database.storeIncoming(
                    contactID: alice.id, messageID: .random(), seq: 1, body: "b", sentAt: epoch,
                    sessionState: Data([2]), expectedSessionVersion: 1)
            }
            #expect(sameSeq == .sequenceConflict)
            let stolenID = await storeErrorCode {
                _ = try await database.storeIncoming(
                    contactID: bob.id, messageID: id, seq: 1, body: "c", sentAt: epoch,
                    sessionState: Data([3]), expectedSessionVersion: nil)
            }
            #expect(stolenID == .messageIDConflict)
            let ours = try await database.enqueueOutgoing(contactID: alice.id, body: "mine", now: epoch)
            let ourID = await storeErrorCode {
                _ = try await database.storeIncoming(
                    contactID: alice.id, messageID: ours.message.id, seq: 2, body: "d", sentAt: epoch,
                    sessionState: Data([4]), expectedSessionVersion: 1)
            }
            #expect(ourID == .messageIDConflict)
            #expect(try await database.loadSession(contactID: alice.id)?.version == 1)
            #expect(try await database.loadSession(contactID: bob.id) == nil)
            #expect(try await database.messages(contactID: bob.id).isEmpty)
        }
    }

    @Test func staleSessionStoresNothing() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            try await database.saveSession(contactID: contact.id, state: Data([1]), expectedVersion: nil)
            let code = await storeErrorCode {
                _ = try await database.storeIncoming(
                    contactID: contact.id, messageID: .random(), seq: 1, body: "lost?", sentAt: epoch,
                    sessionState: Data([2]), expectedSessionVersion: nil)
            }
            #expect(code == .sessionConflict)
            #expect(try await database.messages(contactID: contact.id).isEmpty)
            #expect(try await database.unreadCount(contactID: contact.id) == 0)
        }
    }

    @Test func oneTimePreKeyIsConsumedWithTheFirstMessage() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            try await database.savePreKey(PreKeyRecord(kind: .oneTime, id: 7, suite: 1, keyData: Data([0xAA, 0xBB]), createdAt: epoch))
            try await database.savePreKey(PreKeyRecord(kind: .oneTime, id: 8, suite: 1, keyData: Data([0xCC]), createdAt: epoch))
            #expect(try await database.nextPreKeyID(kind: .oneTime) == 9)
            let duplicateKey = await storeErrorCode {
                try await database.savePreKey(PreKeyRecord(kind: .oneTime, id: 7, suite: 1, keyData: Data(), createdAt: epoch))
            }
            #expect(duplicateKey == .duplicatePreKey)

            _ = try await database.storeIncoming(
                contactID: contact.id, messageID: .random(), seq: 1, body: "first", sentAt: epoch,
                sessionState: Data([1]), expectedSessionVersion: nil, consumingOneTimePreKey: 7, now: at(1))
            let consumed = try #require(try await database.preKey(kind: .oneTime, id: 7))
            #expect(consumed.isConsumed)
            #expect(consumed.keyData.isEmpty)
            #expect(try await database.preKeys(kind: .oneTime).map(\.id) == [8])

            // A replayed first message under a new id: refused, and nothing of it is stored.
            try await database.deleteSession(contactID: contact.id)
            let replay = await storeErrorCode {
                _ = try await database.storeIncoming(
                    contactID: contact.id, messageID: .random(), seq: 2, body: "replay", sentAt: epoch,
                    sessionState: Data([9]), expectedSessionVersion: nil, consumingOneTimePreKey: 7)
            }
            #expect(replay == .preKeyConsumed)
            #expect(try await database.loadSession(contactID: contact.id) == nil)
            #expect(try await database.messages(contactID: contact.id).map(\.body) == ["first"])
        }
    }

    @Test func signedPreKeysExpire() async throws {
        try await withDatabase { database, _ in
            try await database.savePreKey(PreKeyRecord(kind: .signed, id: 1, suite: 1, keyData: Data([1]), createdAt: epoch, expiresAt: at(10)))
            try await database.savePreKey(PreKeyRecord(kind: .signed, id: 2, suite: 2, keyData: Data([2]), createdAt: epoch))
            #expect(try await database.deleteExpiredPreKeys(now: at(5)) == 0)
            #expect(try await database.deleteExpiredPreKeys(now: at(10)) == 1)
            let remaining = try await database.preKeys(kind: .signed)
            #expect(remaining.map(\.id) == [2])
            #expect(remaining.first?.suite == 2)
        }
    }

    @Test func pagesAndReadState() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            var version: Int64? = nil
            for seq in 1...5 {
                let result = try await database.storeIncoming(
                    contactID: contact.id, messageID: .random(), seq: Int64(seq), body: "in \(seq)", sentAt: at(Double(seq * 10)),
                    sessionState: Data([UInt8(seq)]), expectedSessionVersion: version)
                version = result.sessionVersion
            }
            _ = try await database.enqueueOutgoing(contactID: contact.id, body: "out 1", now: at(25))

            let latest = try await database.messages(contactID: contact.id, limit: 3)
            #expect(latest.map(\.body) == ["in 3", "in 4", "in 5"])
            let older = try await database.messages(contactID: contact.id, limit: 3, before: latest[0].id)
            #expect(older.map(\.body) == ["in 1", "in 2", "out 1"])
            #expect(try await database.messages(contactID: contact.id, limit: 3, before: older[0].id).isEmpty)

            #expect(try await database.unreadCount(contactID: contact.id) == 5)
            let read = try await database.markRead(contactID: contact.id, upTo: 3)
            #expect(read.count == 3)
            #expect(try await database.unreadCount(contactID: contact.id) == 2)
            #expect(try await database.conversation(contactID: contact.id).lastReadSeq == 3)
            #expect(try await database.markRead(contactID: contact.id, upTo: 3).isEmpty)
            #expect(try await database.markRead(contactID: contact.id).count == 2)
            #expect(try await database.unreadCount(contactID: contact.id) == 0)
            #expect(try await database.conversation(contactID: contact.id).lastReadSeq == 5)

            let badLimit = await storeErrorCode { _ = try await database.messages(contactID: contact.id, limit: 0) }
            #expect(badLimit == .invalidArgument)
        }
    }
}
