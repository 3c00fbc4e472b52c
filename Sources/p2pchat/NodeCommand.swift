import ArgumentParser
import IPFS
import LibP2P
import Multiformats
import NIOCore

/// `p2pchat node`: runs a libp2p host until interrupted.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a libp2p host: prints one full multiaddr per listen address, then serves until interrupted."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "Multiaddr to listen on (repeatable), e.g. /ip4/127.0.0.1/tcp/0.")
    var listen: [String] = ["/ip4/127.0.0.1/tcp/0"]

    @Option(name: .long, help: "Serve an echo handler for this protocol id (repeatable; diagnostics and interop tests).")
    var echo: [String] = []

    func run() async throws {
        let home = try global.openHome()
        let identity = try home.loadOrCreateIdentity()
        let logger = try global.makeLogger()
        let addresses = try listen.map { text in
            do { return try Multiaddr(text) } catch { throw CLIError("invalid listen address '\(text)': \(error)") }
        }
        let protocols = echo
        try await HostRunner.withHost(identity: identity, logger: logger) { host in
            // Serve this home's blockstore over Bitswap (an IPFS peer: Kubo can fetch what we hold).
            let ipfs: IPFSNode
            do {
                ipfs = try IPFSNode(home: home.directory, host: host)
            } catch {
                throw CLIError(error, context: "cannot open the blockstore in \(home.directory.path)")
            }
            ipfs.register()
            for protocolID in protocols {
                host.setHandler(for: protocolID) { incoming in
                    try await EchoProtocol.serve(incoming.stream)
                }
            }
            for address in addresses {
                let bound: [Multiaddr]
                do {
                    bound = try await host.listen(on: address)
                } catch {
                    throw CLIError(error, context: "cannot listen on \(address)")
                }
                for full in bound { Output.line(full.description) }
            }
            await HostRunner.waitForTerminationSignal()
            logger.info("shutting down")
        }
    }
}

/// Echoes everything read back to the sender, then half-closes at EOF.
enum EchoProtocol {
    static func serve(_ stream: any ByteStream) async throws {
        while let chunk = try await stream.read() {
            try await stream.write(chunk)
        }
        try await stream.closeWrite()
    }
}
