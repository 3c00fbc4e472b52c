import ArgumentParser
import ChatNode
import ChatStore
import Foundation
import LibP2P
import Multiformats

/// `p2pchat init --name NAME [--port P]`: creates the identity, profile and prekeys of a home.
struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Set up this home: identity, display name, prekeys and the listen port kept across restarts."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "Your display name, shown to contacts you invite.")
    var name: String

    @Option(name: .long, help: "TCP port the node listens on (default: keep the stored one, else pick a free port).")
    var port: UInt16?

    func run() async throws {
        let home = try global.openHome()
        let identity = try home.loadOrCreateIdentity()
        try await ChatCLI.run {
            let account = try ChatAccount(home: home.directory, identity: identity)
            let stored = try? await account.database.localProfile()?.listenPort
            let chosen: UInt16
            if let port { chosen = port } else if let stored, stored != 0 { chosen = stored } else { chosen = try await ChatCLI.freePort() }
            let profile = try await account.initialize(name: name, listenPort: chosen)
            Output.line("initialized \(profile.displayName) (\(identity.peerID)); the node will listen on /ip4/127.0.0.1/tcp/\(chosen)")
        }
    }
}

/// Helpers shared by the chat commands.
enum ChatCLI {
    /// Runs `body`, turning module errors into one-line `CLIError`s.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ChatNodeError {
            throw CLIError(error.message)
        } catch let error as ChatStoreError {
            throw CLIError("database: \(error.message)")
        }
    }

    /// Opens the account of an initialized home.
    static func openAccount(_ global: GlobalOptions) async throws -> ChatAccount {
        let home = try global.openHome()
        let identity = try home.loadIdentity()
        return try await run {
            let account = try ChatAccount(home: home.directory, identity: identity)
            _ = try await account.profile()
            return account
        }
    }

    /// A TCP port free on 127.0.0.1 right now.
    static func freePort() async throws -> UInt16 {
        let listener = try await TCPTransport().listen(host: "127.0.0.1", port: 0)
        let port = listener.localAddress.port ?? 0
        try? await listener.channel.close()
        guard let value = UInt16(exactly: port), value != 0 else { throw CLIError("cannot find a free TCP port; pass --port") }
        return value
    }

    /// The node running for this home answers `request`, or `nil` when none runs.
    static func askNode(_ request: ControlRequest.Operation, home: URL) async -> ControlResponse? {
        await ControlSocket.send(ControlRequest(op: request), home: home)
    }

    /// How a state is shown: `queued`, `sent`, `stored k/n`, `delivered`, `read`, `failed(reason)`.
    static func display(_ state: MessageState) -> String {
        switch state {
        case .stored(let copies, let total): "stored \(copies)/\(total)"
        case .failed(let reason): "failed(\(reason))"
        default: state.kind.rawValue
        }
    }

    static let timestampFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func timestamp(_ date: Date) -> String {
        date.formatted(timestampFormat)
    }
}
