import Foundation
import Testing
@testable import ChatStore

@Suite struct SendingTests {
    @Test func enqueueQueuesWithIncreasingSequenceNumbers() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let first = try await database.enqueueOutgoing(contactID: contact.id, body: "one", now: epoch, ttl: .seconds(60))
            let second = try await database.enqueueOutgoing(contactID: contact.id, body: "two", replyTo: first.message.id, now: at(1))
            #expect(first.message.seq == 1)
            #expect(second.message.seq == 2)
            #expect(first.message.state == .queued)
            #expect(first.message.direction == .outgoing)
            #expect(first.message.expiresAt == at(60))
            #expect(second.message.replyTo == first.message.id)
            #expect(first.message.id != second.message.id)
            #expect(try await database.conversation(contactID: contact.id).nextOutgoingSeq == 3)
            let due = try await database.dueOutbox(now: at(1))
            #expect(due.map(\.message.id) == [first.message.id, second.message.id])
            #expect(due.allSatisfy { $0.envelope == nil && $0.contactID == contact.id })
            #expect(try await database.outboxCounts() == [.queued: 2])
        }
    }

    @Test func concurrentEnqueuesGetDistinctConsecutiveSequenceNumbers() async throws {
        try await withDatabase { database, _ in
            let alice = try await addContact(database, "alice")
            let bob = try await addContact(database, "bob")
            let sent = try await withThrowingTaskGroup(of: OutgoingMessage.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        try await database.enqueueOutgoing(contactID: index % 4 == 0 ? bob.id : alice.id, body: "m\(index)", now: epoch)
                    }
                }
                return try await group.reduce(into: [OutgoingMessage]()) { $0.append($1) }
            }
            #expect(sent.count == 200)
            #expect(Set(sent.map(\.message.id)).count == 200)
            let aliceSeqs = sent.filter { $0.contactID == alice.id }.map(\.message.seq).sorted()
            let bobSeqs = sent.filter { $0.contactID == bob.id }.map(\.message.seq).sorted()
            #expect(aliceSeqs == Array(1...150))
            #expect(bobSeqs == Array(1...50))
        }
    }

    @Test func unknownContactCannotBeSentTo() async throws {
        try await withDatabase { database, _ in
            let code = await storeErrorCode {
                _ = try await database.enqueueOutgoing(contactID: ContactID(rawValue: 7), body: "x")
            }
            #expect(code == .notFound)
            let counts = try await database.outboxCounts()
            #expect(counts.isEmpty)
        }
    }

    @Test func sealingCommitsEnvelopeAndSessionTogether() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let queued = try await database.enqueueOutgoing(contactID: contact.id, body: "hi", now: epoch)
            let version = try await database.commitSealed(
                messageID: queued.message.id, envelope: Data([0xE1]), contactID: contact.id,
                sessionState: Data([1]), expectedSessionVersion: nil, now: epoch)
            #expect(version == 1)
            #expect(try await database.dueOutbox(now: epoch).first?.envelope == Data([0xE1]))

            // Re-sealing would burn a second ratchet step for the same message: refused, nothing changes.
            let again = await storeErrorCode {
                try await database.commitSealed(
                    messageID: queued.message.id, envelope: Data([0xE2]), contactID: contact.id,
                    sessionState: Data([2]), expectedSessionVersion: 1)
            }
            #expect(again == .alreadySealed)
            #expect(try await database.loadSession(contactID: contact.id)?.state == Data([1]))
            #expect(try await database.dueOutbox(now: epoch).first?.envelope == Data([0xE1]))
        }
    }

    @Test func sealingWithAStaleSessionStoresNeitherPart() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            try await database.saveSession(contactID: contact.id, state: Data([5]), expectedVersion: nil)
            try await database.saveSession(contactID: contact.id, state: Data([6]), expectedVersion: 1)
            let queued = try await database.enqueueOutgoing(contactID: contact.id, body: "hi", now: epoch)
            let code = await storeErrorCode {
                try await database.commitSealed(
                    messageID: queued.message.id, envelope: Data([0xE1]), contactID: contact.id,
                    sessionState: Data([7]), expectedSessionVersion: 1)
            }
            #expect(code == .sessionConflict)
            #expect(try await database.dueOutbox(now: epoch).first?.envelope == nil)
            #expect(try await database.loadSession(contactID: contact.id)?.state == Data([6]))

            let other = try await addContact(database, "bob")
            let wrongContact = await storeErrorCode {
                try await database.commitSealed(
                    messageID: queued.message.id, envelope: Data([0xE1]), contactID: other.id,
                    sessionState: Data([7]), expectedSessionVersion: nil)
            }
            #expect(wrongContact == .notFound)
            #expect(try await database.loadSession(contactID: other.id) == nil)
        }
    }

    @Test func outboxIsDueInScheduleOrder() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let a = try await database.enqueueOutgoing(contactID: contact.id, body: "a", now: epoch)
            let b = try await database.enqueueOutgoing(contactID: contact.id, body: "b", now: epoch)
            let c = try await database.enqueueOutgoing(contactID: contact.id, body: "c", now: at(2))
            try await database.markAttempt(messageID: a.message.id, nextAttemptAt: at(30), error: "unreachable")
            try await database.markAttempt(messageID: b.message.id, nextAttemptAt: at(10))

            #expect(try await database.dueOutbox(now: at(1)).isEmpty)
            #expect(try await database.dueOutbox(now: at(2)).map(\.message.id) == [c.message.id])
            #expect(try await database.dueOutbox(now: at(60)).map(\.message.id) == [c.message.id, b.message.id, a.message.id])
            #expect(try await database.dueOutbox(now: at(60), limit: 2).map(\.message.id) == [c.message.id, b.message.id])
            #expect(try await database.nextOutboxDue() == at(2))

            let entry = try #require(try await database.dueOutbox(now: at(60)).first { $0.message.id == a.message.id })
            #expect(entry.attempts == 1)
            #expect(entry.nextAttemptAt == at(30))
            #expect(entry.message.attempts == 1)
            #expect(entry.message.error == "unreachable")
        }
    }

    @Test func stateOnlyMovesForward() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let id = try await database.enqueueOutgoing(contactID: contact.id, body: "x", now: epoch).message.id
            func state() async throws -> MessageState? { try await database.message(id: id)?.state }

            #expect(try await database.markState(messageID: id, state: .stored(copies: 1, total: 3), now: at(1)))
            #expect(try await !database.markState(messageID: id, state: .queued))
            #expect(try await database.markState(messageID: id, state: .stored(copies: 2, total: 3)))
            #expect(try await !database.markState(messageID: id, state: .stored(copies: 1, total: 3)))
            #expect(try await state() == .stored(copies: 2, total: 3))
            #expect(try await database.outboxCounts() == [.stored: 1])

            #expect(try await database.markState(messageID: id, state: .delivered, now: at(5)))
            #expect(try await database.dueOutbox(now: at(100)).isEmpty)
            #expect(try await !database.markState(messageID: id, state: .sent))
            #expect(try await !database.markState(messageID: id, state: .failed(.rejected)))
            #expect(try await state() == .delivered)
            #expect(try await database.message(id: id)?.stateChangedAt == at(5))
            #expect(try await database.markState(messageID: id, state: .read))
            #expect(try await !database.markState(messageID: id, state: .delivered))
            #expect(try await state() == .read)
            #expect(try await database.outboxCounts().isEmpty)

            let missing = await storeErrorCode { try await database.markState(messageID: .random(), state: .sent) }
            #expect(missing == .notFound)
        }
    }

    @Test func transitionRules() {
        let pending: [MessageState] = [.queued, .sent, .stored(copies: 1, total: 2)]
        for state in pending {
            #expect(state.canAdvance(to: .failed(.expired)))
            #expect(state.canAdvance(to: .delivered))
            #expect(!state.canAdvance(to: .queued))
        }
        #expect(MessageState.sent.canAdvance(to: .stored(copies: 1, total: 2)))
        #expect(!MessageState.sent.canAdvance(to: .sent))
        #expect(!MessageState.delivered.canAdvance(to: .failed(.expired)))
        #expect(!MessageState.read.canAdvance(to: .delivered))
        #expect(!MessageState.failed(.expired).canAdvance(to: .sent))
        #expect(MessageState.failed(.expired).canAdvance(to: .delivered))
    }

    @Test func receiptsAdvanceStateOnce() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let id = try await database.enqueueOutgoing(contactID: contact.id, body: "x", now: epoch).message.id
            #expect(try await database.recordReceipt(messageID: id, kind: .read, at: at(3)))
            #expect(try await !database.recordReceipt(messageID: id, kind: .delivered, at: at(2)))
            #expect(try await database.message(id: id)?.state == .read)
            #expect(try await database.receipts(messageID: id).map(\.kind) == [.delivered, .read])
            #expect(try await database.dueOutbox(now: at(10)).isEmpty)
        }
    }

    @Test func overdueMessagesExpire() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let short = try await database.enqueueOutgoing(contactID: contact.id, body: "short", now: epoch, ttl: .seconds(10))
            let stored = try await database.enqueueOutgoing(contactID: contact.id, body: "stored", now: epoch, ttl: .seconds(10))
            let delivered = try await database.enqueueOutgoing(contactID: contact.id, body: "delivered", now: epoch, ttl: .seconds(10))
            let long = try await database.enqueueOutgoing(contactID: contact.id, body: "long", now: epoch, ttl: .seconds(100))
            try await database.markState(messageID: stored.message.id, state: .stored(copies: 1, total: 2))
            try await database.markState(messageID: delivered.message.id, state: .delivered)

            #expect(try await database.expireOverdue(now: at(9)).isEmpty)
            let expired = try await database.expireOverdue(now: at(10))
            #expect(expired == [short.message.id, stored.message.id])
            #expect(try await database.message(id: short.message.id)?.state == .failed(.expired))
            #expect(try await database.message(id: delivered.message.id)?.state == .delivered)
            #expect(try await database.dueOutbox(now: at(50)).map(\.message.id) == [long.message.id])
            #expect(try await database.expireOverdue(now: at(50)).isEmpty)
            // A late delivery receipt is the truth: the message did arrive.
            #expect(try await database.recordReceipt(messageID: short.message.id, kind: .delivered, at: at(60)))
            #expect(try await database.message(id: short.message.id)?.state == .delivered)
        }
    }
}
