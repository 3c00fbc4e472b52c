import Foundation
import Testing
@testable import ChatStore

@Suite struct SessionTests {
    @Test func versionsIncreaseAndConflictsAreDetected() async throws {
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            #expect(try await database.loadSession(contactID: contact.id) == nil)
            let first = try await database.saveSession(contactID: contact.id, state: Data([1]), expectedVersion: nil, now: epoch)
            #expect(first == 1)

            // Two processes read version 1 and both advance the ratchet: only one may win.
            let read = try #require(try await database.loadSession(contactID: contact.id))
            let winner = try await database.saveSession(contactID: contact.id, state: Data([2]), expectedVersion: read.version)
            #expect(winner == 2)
            let loser = await storeErrorCode {
                try await database.saveSession(contactID: contact.id, state: Data([3]), expectedVersion: read.version)
            }
            #expect(loser == .sessionConflict)
            let creatingAgain = await storeErrorCode {
                try await database.saveSession(contactID: contact.id, state: Data([4]), expectedVersion: nil)
            }
            #expect(creatingAgain == .sessionConflict)
            let stored = try #require(try await database.loadSession(contactID: contact.id))
            #expect(stored.state == Data([2]))
            #expect(stored.version == 2)
        }
    }

    @Test func concurrentSaversFromTwoInstancesNeverBothWin() async throws {
        try await withTemporaryHome { home in
            let node = try ChatDatabase(home: home)
            let cli = try ChatDatabase(home: home)
            let contact = try await addContact(node)
            try await node.saveSession(contactID: contact.id, state: Data([0]), expectedVersion: nil)
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for (index, database) in [node, cli, node, cli].enumerated() {
                    group.addTask {
                        let code = await storeErrorCode {
                            try await database.saveSession(contactID: contact.id, state: Data([UInt8(index + 1)]), expectedVersion: 1)
                        }
                        return code == nil
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            #expect(try await cli.loadSession(contactID: contact.id)?.version == 2)
        }
    }

    @Test func unknownContactIsNotFound() async throws {
        try await withDatabase { database, _ in
            let code = await storeErrorCode {
                try await database.saveSession(contactID: ContactID(rawValue: 99), state: Data(), expectedVersion: nil)
            }
            #expect(code == .notFound)
        }
    }
}
