import ArgumentParser
import ChatNode
import ChatWeb
import Foundation
import Logging
import Multiformats
import ServiceLifecycle

/// `p2pchat up`: runs the chat node for this home until SIGINT/SIGTERM.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the chat node: prints its listen multiaddrs (one per line), then delivers and receives until interrupted."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "Listen multiaddr (repeatable); default: the port stored at init on 127.0.0.1.")
    var listen: [String] = []

    @Flag(name: .long, help: "Do not serve the web UI.")
    var noWeb = false

    @Option(name: .long, help: "Web UI port on 127.0.0.1 (default: the last one used, else 7717 or the next free one).")
    var webPort: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Run this shell command for each new incoming message (e.g. a desktop notification).",
        discussion: "It gets P2PCHAT_SENDER, P2PCHAT_SENDER_PEER_ID and P2PCHAT_MESSAGE_ID in its environment, never the text."))
    var onMessage: String?

    func run() async throws {
        let account = try await ChatCLI.openAccount(global)
        let logger = try global.makeLogger()
        let addresses = try listen.map { text in
            do { return try Multiaddr(text) } catch { throw CLIError("invalid listen address '\(text)': \(error)") }
        }
        var configuration = ChatNodeConfiguration(listenAddresses: addresses.isEmpty ? nil : addresses)
        if let onMessage {
            guard !onMessage.trimmingCharacters(in: .whitespaces).isEmpty else { throw CLIError("--on-message needs a command") }
            configuration.messageHook = MessageCommandHook(command: onMessage, logger: logger)
        }
        let node = ChatNode(account: account, configuration: configuration, logger: logger)
        var services: [any Service] = [node]
        if !noWeb {
            // Prints "web UI: http://127.0.0.1:PORT/?token=…" once it listens.
            services.append(try ChatWebServer.make(node: node, home: account.home, port: webPort, logger: logger))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await ChatCLI.run {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let bound: [Multiaddr]
                do {
                    bound = try await node.listeningAddresses()
                } catch {
                    await group.triggerGracefulShutdown()
                    try? await tasks.waitForAll()
                    throw error
                }
                for address in bound { Output.line(address.description) }
                try await tasks.waitForAll()
            }
        }
    }
}
