import ArgumentParser
import ChatNode
import ChatStore
import Foundation

/// `p2pchat status [--json]`: who is online, and what waits in the outbox.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the node (running or not), contacts online/offline and outbox counts by state."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Status: Encodable {
        struct ContactState: Encodable {
            var name: String
            var peerID: String
            var state: String
        }
        var name: String
        var peerID: String
        var nodeRunning: Bool
        var addresses: [String]
        var contacts: [ContactState]
        var outbox: [String: Int]
    }

    func run() async throws {
        let account = try await ChatCLI.openAccount(global)
        try await ChatCLI.run {
            let profile = try await account.profile()
            let presence = await ChatCLI.askNode(.presence, home: account.home)
            let addresses = await ChatCLI.askNode(.addresses, home: account.home)?.addresses ?? []
            let online = Set(presence?.online ?? [])
            var contacts: [Status.ContactState] = []
            for contact in try await account.database.contacts() {
                let state = presence == nil ? "unknown (node not running)" : online.contains(contact.peerID.description) ? "online" : "offline"
                contacts.append(.init(name: contact.displayName, peerID: contact.peerID.description, state: state))
            }
            var outbox: [String: Int] = [:]
            for (kind, count) in try await account.outboxCounts() { outbox[kind.rawValue] = count }
            let status = Status(
                name: profile.displayName, peerID: profile.peerID.description, nodeRunning: presence != nil,
                addresses: addresses, contacts: contacts, outbox: outbox)
            if json { return try Output.json(status) }
            Output.line("\(status.name) \(status.peerID)")
            Output.line(status.nodeRunning ? "node running: \(addresses.joined(separator: " "))" : "node not running (start it with `p2pchat up`)")
            for contact in contacts { Output.line("  \(contact.name)\t\(contact.state)") }
            let counts = MessageState.Kind.allCases.compactMap { kind in outbox[kind.rawValue].map { "\(kind.rawValue) \($0)" } }
            Output.line("outbox: \(counts.isEmpty ? "empty" : counts.joined(separator: ", "))")
        }
    }
}
