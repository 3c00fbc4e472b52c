import ArgumentParser
import ChatNode
import Multiformats

/// `p2pchat invite`: prints a one-line invite code.
struct InviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite",
        abstract: "Print a one-line invite (your PeerID, addresses and a fresh signed prekey bundle) for one contact."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "How many hours the invite stays valid.")
    var validHours: Int = 168

    func run() async throws {
        guard (1...24 * 90).contains(validHours) else { throw CLIError("--valid-hours must be 1–2160") }
        let account = try await ChatCLI.openAccount(global)
        try await ChatCLI.run {
            // A running node knows its current addresses; otherwise use the stored port.
            var addresses: [Multiaddr] = []
            if let running = await ChatCLI.askNode(.addresses, home: account.home), running.ok {
                addresses = (running.addresses ?? []).compactMap { try? Multiaddr($0) }
            }
            if addresses.isEmpty { addresses = try await account.storedAddresses() }
            // A fresh queue on each of our mailboxes, for this invite only.
            var mailboxes: [[UInt8]] = []
            if try await !account.database.mailboxes().isEmpty {
                let logger = try global.makeLogger(label: "p2pchat.mailboxes")
                mailboxes = try await MailboxDirectory.withThrowawayClient(account: account, logger: logger) { client in
                    try await MailboxDirectory(account: account, client: client, logger: logger).makeInviteQueues()
                }
            }
            let invite = try await account.makeInvite(addresses: addresses, mailboxes: mailboxes, lifetime: .seconds(validHours * 3600))
            Output.line(invite.text)
        }
    }
}
