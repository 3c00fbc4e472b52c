import Foundation
import GRDB
import Testing
@testable import ChatStore

@Suite struct ChatDatabaseTests {
    @Test func migratesAnEmptyHome() async throws {
        try await withDatabase { database, home in
            #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("chat.sqlite").path))
            #expect(try await database.appliedMigrations().count == ChatMigrations.migrator.migrations.count)
            let tables = try await database.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            }
            for table in ["local_identity", "prekeys", "contacts", "sessions", "conversations", "messages", "outbox", "receipts", "messages_fts"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
            let settings = try await database.read { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"))
            }
            #expect(settings.0 == "wal")
            #expect(settings.1 == 1)
        }
    }

    @Test func reopeningKeepsData() async throws {
        try await withTemporaryHome { home in
            let peer = makePeerID()
            var first: ChatDatabase? = try ChatDatabase(home: home)
            try await first!.setLocalProfile(name: "me", peerID: peer, listenPort: 4001, now: epoch)
            let contact = try await addContact(first!)
            let queued = try await first!.enqueueOutgoing(contactID: contact.id, body: "hello", now: epoch)
            first = nil

            let second = try ChatDatabase(home: home)
            let profile = try #require(try await second.localProfile())
            #expect(profile.displayName == "me")
            #expect(profile.peerID == peer)
            #expect(profile.listenPort == 4001)
            #expect(try await second.contacts().map(\.id) == [contact.id])
            #expect(try await second.message(id: queued.message.id)?.body == "hello")
            #expect(try await second.appliedMigrations().count == ChatMigrations.migrator.migrations.count)
        }
    }

    @Test func filesArePrivate() async throws {
        try await withDatabase { database, home in
            let contact = try await addContact(database)
            _ = try await database.enqueueOutgoing(contactID: contact.id, body: "secret", now: epoch)
            let path = home.appendingPathComponent(ChatDatabase.fileName).path
            for file in [path, path + "-wal", path + "-shm"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: file)
                let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue
                #expect(mode == 0o600, "\(file) has mode \(String(mode ?? -1, radix: 8))")
            }
            let homeMode = (try FileManager.default.attributesOfItem(atPath: home.path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(homeMode == 0o700)
        }
    }

    @Test func tightensAnExistingLooseFile() async throws {
        try await withTemporaryHome { home in
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            let path = home.appendingPathComponent(ChatDatabase.fileName).path
            #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
            _ = try ChatDatabase(home: home)
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
        }
    }

    @Test func refusesAnotherIdentity() async throws {
        try await withDatabase { database, _ in
            try await database.setLocalProfile(name: "me", peerID: makePeerID(), listenPort: nil, now: epoch)
            let code = await storeErrorCode {
                try await database.setLocalProfile(name: "me", peerID: makePeerID(), listenPort: nil)
            }
            #expect(code == .identityMismatch)
        }
    }

    @Test func profileKeepsCreationTimeAndPort() async throws {
        try await withDatabase { database, _ in
            let peer = makePeerID()
            try await database.setLocalProfile(name: "me", peerID: peer, listenPort: nil, now: epoch)
            try await database.setListenPort(4242, now: at(5))
            try await database.setLocalProfile(name: "renamed", peerID: peer, listenPort: 4242, now: at(10))
            let profile = try #require(try await database.localProfile())
            #expect(profile.displayName == "renamed")
            #expect(profile.listenPort == 4242)
            #expect(profile.createdAt == epoch)
            #expect(profile.updatedAt == at(10))
        }
    }

    @Test func twoInstancesOnOneFileLoseNoWrites() async throws {
        try await withTemporaryHome { home in
            // Two pools on one file: separate connections and locks, as the CLI and a node are.
            let node = try ChatDatabase(home: home)
            let cli = try ChatDatabase(home: home)
            let contact = try await addContact(node)
            let perInstance = 60
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<perInstance {
                    group.addTask { _ = try await node.enqueueOutgoing(contactID: contact.id, body: "node \(index)", now: epoch) }
                    group.addTask { _ = try await cli.enqueueOutgoing(contactID: contact.id, body: "cli \(index)", now: epoch) }
                }
                try await group.waitForAll()
            }
            let seen = try await cli.messages(contactID: contact.id, limit: 1000)
            #expect(seen.count == 2 * perInstance)
            #expect(seen.map(\.seq).sorted() == Array(1...Int64(2 * perInstance)))
            #expect(Set(seen.map(\.body)).count == 2 * perInstance)
            #expect(try await node.dueOutbox(now: epoch, limit: 1000).count == 2 * perInstance)
        }
    }

    @Test func anInterruptedTransactionLeavesNothing() async throws {
        struct Crash: Error {}
        try await withDatabase { database, _ in
            let contact = try await addContact(database)
            let conversationID = contact.conversationID
            await #expect(throws: ChatStoreError.self) {
                try await database.write { db in
                    _ = try ChatDatabase.saveSession(db, contactID: contact.id, state: Data([1]), expectedVersion: nil, now: epoch)
                    try db.execute(sql: """
                        INSERT INTO messages (id, conversation_id, direction, seq, body, kind, sent_at, state, state_changed_at)
                        VALUES (?, ?, 'in', 1, 'half', 'text', 0, 'delivered', 0)
                        """, arguments: [MessageID.random(), conversationID])
                    throw Crash()
                }
            }
            #expect(try await database.loadSession(contactID: contact.id) == nil)
            #expect(try await database.messages(contactID: contact.id).isEmpty)
            #expect(try await database.search(words: "half").isEmpty)
        }
    }
}
