import Foundation
import Testing
@testable import ChatStore

@Suite struct SearchTests {
    /// Stores `bodies` as incoming messages from a new contact named `name`.
    private func receive(_ database: ChatDatabase, _ name: String, _ bodies: [String]) async throws -> Contact {
        let contact = try await addContact(database, name)
        var version: Int64? = nil
        for (index, body) in bodies.enumerated() {
            version = try await database.storeIncoming(
                contactID: contact.id, messageID: .random(), seq: Int64(index + 1), body: body, sentAt: at(Double(index)),
                sessionState: Data([UInt8(index)]), expectedSessionVersion: version).sessionVersion
        }
        return contact
    }

    @Test func findsWordsAndPrefixes() async throws {
        try await withDatabase { database, _ in
            let alice = try await receive(database, "alice", ["Lunch tomorrow at noon?", "The mailbox is down", "see you at lunch"])
            let hits = try await database.search(words: "lunch")
            #expect(hits.count == 2)
            #expect(hits.allSatisfy { $0.contactID == alice.id && $0.direction == .incoming })
            #expect(hits.contains { $0.snippet.contains("[Lunch]") })
            #expect(try await database.search(words: "mail").count == 1)
            #expect(try await database.search(words: "lunch noon").count == 1)
            #expect(try await database.search(words: "pizza").isEmpty)
        }
    }

    @Test func ranksBetterMatchesFirst() async throws {
        try await withDatabase { database, _ in
            _ = try await receive(database, "alice", [
                "a long message that mentions ratchet once among many many other words of padding text",
                "ratchet ratchet ratchet",
                "nothing relevant here",
            ])
            let hits = try await database.search(words: "ratchet")
            #expect(hits.count == 2)
            #expect(hits.first?.snippet == "[ratchet] [ratchet] [ratchet]")
            #expect(hits[0].score < hits[1].score)
        }
    }

    @Test func userInputIsNeverQuerySyntax() async throws {
        try await withDatabase { database, _ in
            _ = try await receive(database, "alice", [
                "say \"hello\" NOT goodbye",
                "AND OR NEAR",
                "col:umn (paren) star* ^caret",
                "Crème brûlée à Zürich",
                "日本語 テキスト",
            ])
            for input in ["\"", "\"\"\"", "hello\"", "NOT", "AND OR", "NEAR(a b)", "*", "^", "body:x", "(", ")", "-", "'", "a\u{0}b", "   ", ""] {
                _ = try await database.search(words: input)
            }
            #expect(try await database.search(words: "\"hello\"").count == 1)
            #expect(try await database.search(words: "NOT").count == 1)
            #expect(try await database.search(words: "near").count == 1)
            #expect(try await database.search(words: "(paren)").count == 1)
            #expect(try await database.search(words: "col:umn").count == 1)
            #expect(try await database.search(words: "creme brulee").count == 1)
            #expect(try await database.search(words: "ZÜRICH").count == 1)
            #expect(try await database.search(words: "日本語").count == 1)
            #expect(try await database.search(words: "***").isEmpty)
        }
    }

    @Test func filtersByContactAndFollowsEdits() async throws {
        try await withDatabase { database, _ in
            let alice = try await receive(database, "alice", ["shared word"])
            let bob = try await receive(database, "bob", ["shared word too"])
            #expect(try await database.search(words: "shared").count == 2)
            #expect(try await database.search(words: "shared", contactID: bob.id).map(\.contactID) == [bob.id])
            try await database.removeContact(contactID: alice.id)
            #expect(try await database.search(words: "shared").map(\.contactID) == [bob.id])
            // The external-content index follows body updates (future edits) through its triggers.
            try await database.write { db in try db.execute(sql: "UPDATE messages SET body = 'edited text'") }
            #expect(try await database.search(words: "shared").isEmpty)
            #expect(try await database.search(words: "edited").count == 1)
        }
    }

    @Test func queryQuotingIsExact() {
        #expect(SearchQuery(words: "a \"b\" c:d")?.expression == "\"a\"* \"\"\"b\"\"\"* \"c:d\"*")
        #expect(SearchQuery(words: "!!! ... ") == nil)
        #expect(SearchQuery(words: "a\u{0}b")?.expression == "\"a\"* \"b\"*")
        #expect(SearchQuery(words: String(repeating: "w ", count: 100))?.expression.split(separator: " ").count == SearchQuery.maximumWords)
    }
}
