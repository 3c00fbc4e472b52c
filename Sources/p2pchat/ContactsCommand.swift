import ArgumentParser
import ChatNode
import ChatStore
import Foundation

/// `p2pchat contacts add|list`.
struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "Add and list contacts.",
        subcommands: [Add.self, List.self],
        defaultSubcommand: List.self
    )

    @ParentCommand var root: P2PChat

    /// `contacts add CODE --name NAME`.
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a contact from their invite and start an end-to-end session with them.")

        @ParentCommand var contacts: ContactsCommand
        var global: GlobalOptions { contacts.root.global }

        @Argument(help: "The invite code (starts with p2pchat:).")
        var code: String

        @Option(name: .long, help: "The name you call this contact by.")
        var name: String

        func run() async throws {
            let account = try await ChatCLI.openAccount(global)
            try await ChatCLI.run {
                let invite = try account.parseInvite(code)
                let contact = try await account.addContact(invite: invite, name: name)
                _ = await ChatCLI.askNode(.kick, home: account.home)
                Output.line("added \(contact.displayName) (\(contact.peerID))")
            }
        }
    }

    /// `contacts list [--json]`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List contacts with online/offline state.")

        @ParentCommand var contacts: ContactsCommand
        var global: GlobalOptions { contacts.root.global }

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        struct Row: Encodable {
            var name: String
            var peerID: String
            var addresses: [String]
            var online: Bool?
            var unread: Int
        }

        func run() async throws {
            let account = try await ChatCLI.openAccount(global)
            try await ChatCLI.run {
                let presence = await ChatCLI.askNode(.presence, home: account.home)
                let online = Set(presence?.online ?? [])
                var rows: [Row] = []
                for contact in try await account.database.contacts() {
                    rows.append(Row(
                        name: contact.displayName, peerID: contact.peerID.description, addresses: contact.addresses.map(\.description),
                        online: presence == nil ? nil : online.contains(contact.peerID.description),
                        unread: try await account.unreadCount(contact)))
                }
                if json { return try Output.json(rows) }
                if rows.isEmpty { Output.line("no contacts yet: add one with `p2pchat contacts add CODE --name NAME`") }
                for row in rows {
                    let state = row.online.map { $0 ? "online" : "offline" } ?? "node not running"
                    Output.line("\(row.name)\t\(state)\t\(row.unread) unread\t\(row.peerID)")
                }
            }
        }
    }
}
