import Foundation
import Testing
@testable import ChatStore

@Suite(.timeLimit(.minutes(1))) struct ObservationTests {
    @Test func outboxCountsFollowWrites() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            var iterator = database.observeOutboxCounts().makeAsyncIterator()
            #expect(try await iterator.next() == [:])
            let queued = try await database.enqueueOutgoing(contactID: contact.id, body: "x", now: epoch)
            #expect(try await iterator.next() == [.queued: 1])
            try await database.markState(messageID: queued.message.id, state: .delivered)
            #expect(try await iterator.next() == [:])
        }
    }

    @Test func conversationFollowsIncomingMessages() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            var iterator = database.observeMessages(contactID: contact.id).makeAsyncIterator()
            #expect(try await iterator.next()?.isEmpty == true)
            _ = try await database.storeIncoming(
                contactID: contact.id, messageID: .random(), seq: 1, body: "ping", sentAt: epoch,
                sessionState: Data([1]), expectedSessionVersion: nil)
            #expect(try await iterator.next()?.map(\.body) == ["ping"])
        }
    }
}
