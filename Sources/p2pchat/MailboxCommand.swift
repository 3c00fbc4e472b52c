import ArgumentParser
import Foundation
import LibP2P
import Mailbox
import Multiformats

/// `p2pchat mailbox …`: run a mailbox (store-and-forward for other people's envelopes).
struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox",
        abstract: "Serve or use mailboxes: always-on peers that hold encrypted envelopes for offline recipients.",
        subcommands: [MailboxServeCommand.self]
    )
}

/// `p2pchat mailbox serve`: runs a mailbox node until interrupted.
struct MailboxServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a mailbox: prints its multiaddr(s), then serves /p2pchat/mailbox/1.0.0 until interrupted (durable in HOME/mailbox.sqlite)."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "Multiaddr to listen on (repeatable).")
    var listen: [String] = ["/ip4/127.0.0.1/tcp/0"]

    @Option(name: .long, help: "Longest time an envelope is kept, in days (the default TTL is 14 days, capped by this).")
    var maxTTLDays: Int?

    func run() async throws {
        let home = try global.openHome()
        let identity = try home.loadOrCreateIdentity()
        let logger = try global.makeLogger(label: "p2pchat.mailbox")
        let addresses = try listen.map { text in
            do { return try Multiaddr(text) } catch { throw CLIError("invalid listen address '\(text)': \(error)") }
        }
        var configuration = MailboxConfiguration()
        if let maxTTLDays {
            guard maxTTLDays >= 1 else { throw CLIError("--max-ttl-days must be at least 1") }
            configuration.maxTTLSeconds = UInt64(maxTTLDays) * 86_400
        }
        let server: MailboxServer
        do {
            server = try MailboxServer(home: home.directory, configuration: configuration, logger: logger)
        } catch {
            throw CLIError(error, context: "cannot open the mailbox database in \(home.directory.path)")
        }
        try await HostRunner.withHost(identity: identity, logger: logger) { host in
            server.register(on: host)
            for address in addresses {
                let bound: [Multiaddr]
                do {
                    bound = try await host.listen(on: address)
                } catch {
                    throw CLIError(error, context: "cannot listen on \(address)")
                }
                for full in bound { Output.line(full.description) }
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await server.run() }
                await HostRunner.waitForTerminationSignal()
                group.cancelAll()
            }
            try? server.close()
        }
    }
}
