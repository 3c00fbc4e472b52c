import ArgumentParser
import ChatNode
import Foundation
import LibP2P
import Mailbox
import Multiformats

/// `p2pchat mailbox …`: run a mailbox (store-and-forward for other people's envelopes).
struct MailboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailbox",
        abstract: "Serve or use mailboxes: always-on peers that hold encrypted envelopes for offline recipients.",
        subcommands: [
            MailboxServeCommand.self, MailboxUseCommand.self, MailboxListCommand.self, MailboxRemoveCommand.self,
            MailboxPushCommand.self,
        ]
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

    @Flag(name: .long, help: "Allow push endpoints on loopback and private addresses (local setups and tests).")
    var allowPrivatePush = false

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
        configuration.allowsPrivatePushEndpoints = allowPrivatePush
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

/// Runs `body` with this home's account and a mailbox directory on a throwaway host.
private func withMailboxDirectory<T: Sendable>(
    _ global: GlobalOptions, _ body: @escaping @Sendable (MailboxDirectory) async throws -> T
) async throws -> T {
    let account = try await ChatCLI.openAccount(global)
    let logger = try global.makeLogger(label: "p2pchat.mailboxes")
    return try await ChatCLI.run {
        try await MailboxDirectory.withThrowawayClient(account: account, logger: logger) { client in
            try await body(MailboxDirectory(account: account, client: client, logger: logger))
        }
    }
}

/// `p2pchat mailbox use MULTIADDR [--push URL]`: receive at a mailbox while offline.
struct MailboxUseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "use",
        abstract: "Receive at this mailbox while offline: creates one queue per contact there (told to them inside the session) and puts one in every new invite."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The mailbox's multiaddr, ending in /p2p/<peer id> (as `mailbox serve` prints it).")
    var multiaddr: String

    @Option(name: .long, help: "Also register this UnifiedPush-style endpoint (http://…) for wake-ups.")
    var push: String?

    func run() async throws {
        let created = try await withMailboxDirectory(global) { directory in
            try await directory.use(multiaddr, pushEndpoint: push)
        }
        let home = try global.openHome().directory
        _ = await ChatCLI.askNode(.kick, home: home)
        Output.line("using mailbox \(try MailboxDirectory.canonicalAddress(multiaddr)): \(created) contact queue(s) created")
    }
}

/// `p2pchat mailbox list [--json]`: our mailboxes, queues and waiting envelopes.
struct MailboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the mailboxes you receive at, with your queues there and the envelopes waiting in them."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let summaries = try await withMailboxDirectory(global) { try await $0.summaries() }
        if json { return try Output.json(summaries) }
        if summaries.isEmpty { Output.line("no mailboxes: add one with `p2pchat mailbox use MULTIADDR`") }
        for summary in summaries {
            let waiting = summary.waitingEnvelopes.map { "\($0) waiting" } ?? "unreachable"
            let push = summary.pushEndpoint.map { "\tpush \($0)" } ?? ""
            Output.line("\(summary.address)\t\(summary.queues) queue(s)\t\(waiting)\(push)")
        }
    }
}

/// `p2pchat mailbox remove MULTIADDR`: stop receiving at a mailbox.
struct MailboxRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Stop using a mailbox: deletes your queues there and tells your contacts."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The mailbox's multiaddr.")
    var multiaddr: String

    func run() async throws {
        let deleted = try await withMailboxDirectory(global) { try await $0.remove(multiaddr) }
        _ = await ChatCLI.askNode(.kick, home: try global.openHome().directory)
        Output.line("removed mailbox \(try MailboxDirectory.canonicalAddress(multiaddr)) (\(deleted) queue(s) deleted there)")
    }
}

/// `p2pchat mailbox push URL | --remove`: register a wake-up endpoint for all our queues.
struct MailboxPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Register a UnifiedPush-style endpoint (http://…): mailboxes POST a content-free wake-up there on each deposit."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The endpoint URL.")
    var url: String?

    @Flag(name: .long, help: "Remove the endpoint instead.")
    var remove = false

    func run() async throws {
        guard remove != (url != nil) else { throw CLIError("give either an endpoint URL or --remove") }
        let endpoint = remove ? nil : url
        let count = try await withMailboxDirectory(global) { try await $0.setPushEndpoint(endpoint) }
        Output.line(endpoint.map { "push endpoint \($0) registered for \(count) queue(s)" } ?? "push endpoint removed from \(count) queue(s)")
    }
}
