import ArgumentParser
import ChatNode
import ChatStore
import Foundation

/// `p2pchat search WORDS [--json]`: full-text search over message bodies.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search message text (every word must match, as a word prefix), best match first."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "Words to search for.")
    var words: [String]

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    @Option(name: .long, help: "At most this many results.")
    var limit: Int = 50

    struct Hit: Encodable {
        var message: MessageRow
        var snippet: String
    }

    func run() async throws {
        guard (1...1000).contains(limit) else { throw CLIError("--limit must be 1–1000") }
        let account = try await ChatCLI.openAccount(global)
        try await ChatCLI.run {
            var names: [ContactID: String] = [:]
            for contact in try await account.database.contacts() { names[contact.id] = contact.displayName }
            let hits = try await account.search(words.joined(separator: " "), limit: limit).map { hit, message in
                Hit(message: MessageRow(message, contact: hit.contactID.flatMap { names[$0] } ?? "?"), snippet: hit.snippet)
            }
            if json { return try Output.json(hits) }
            if hits.isEmpty { Output.line("no matches") }
            for hit in hits {
                Output.line("\(hit.message.sentAt)  \(hit.message.direction == "out" ? "→" : "←") \(hit.message.contact)  \(hit.snippet)")
            }
        }
    }
}
