import ArgumentParser
import ChatNode
import ChatStore
import Foundation

/// One message as `messages --json` and `search --json` print it.
struct MessageRow: Encodable {
    var id: String
    var contact: String
    var direction: String
    var seq: Int64
    var body: String
    var state: String
    var sentAt: String
    var sentAtMs: Int64
    /// The attachment of an attachment message (set by `messages`; attachments hook).
    var attachment: AttachmentSummary?

    init(_ message: ChatMessage, contact: String) {
        id = message.id.description
        self.contact = contact
        direction = message.direction.rawValue
        seq = message.seq
        body = AttachmentContent.displayText(of: message)
        state = ChatCLI.display(message.state)
        sentAt = ChatCLI.timestamp(message.sentAt)
        sentAtMs = Int64((message.sentAt.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// `time  →|←  name  [state]  body`.
    var text: String {
        let arrow = direction == "out" ? "→" : "←"
        let line = "\(sentAt)  \(arrow) \(contact)  [\(state)]  \(body)"
        guard let attachment else { return line }
        return body.isEmpty ? line + attachment.line : line + "\n    " + attachment.line
    }
}

/// `p2pchat messages [NAME] [--json]`: shows conversations and marks them read.
struct MessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Show messages (all contacts, or one) with their delivery state; shown incoming messages are marked read."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "Only this contact's conversation.")
    var name: String?

    @Flag(name: .long, help: "Print a JSON array.")
    var json = false

    @Option(name: .long, help: "At most this many latest messages per conversation.")
    var limit: Int = 100

    @Flag(name: .long, help: "Do not mark messages read (no read receipts).")
    var noMarkRead = false

    func run() async throws {
        guard (1...1_000_000).contains(limit) else { throw CLIError("--limit must be 1–1000000") }
        let account = try await ChatCLI.openAccount(global)
        try await ChatCLI.run {
            let contacts = if let name { [try await account.contact(named: name)] } else { try await account.database.contacts() }
            var rows: [MessageRow] = []
            var marked = 0
            for contact in contacts {
                let messages = try await account.conversation(with: contact, limit: limit)
                for message in messages {
                    var row = MessageRow(message, contact: contact.displayName)
                    row.attachment = try await account.attachment(of: message)
                    rows.append(row)
                }
                if !noMarkRead { marked += try await account.markRead(contact) }
            }
            if marked > 0 { _ = await ChatCLI.askNode(.kick, home: account.home) }
            if json { return try Output.json(rows) }
            if rows.isEmpty { Output.line("no messages") }
            for row in rows { Output.line(row.text) }
        }
    }
}
