import Foundation
import ArgumentParser
import LibP2P
import Multiformats

/// `p2pchat ping`: dials a peer and measures round trips with `/ipfs/ping/1.0.0`.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ping", abstract: "Dial a peer and ping it.")

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The peer's multiaddr, ending in /p2p/<peer id>.")
    var address: String

    @Option(name: .long, help: "How many pings to send.")
    var count: Int = 4

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    func run() async throws {
        let identity = try global.openHome().loadOrCreateIdentity()
        let logger = try global.makeLogger()
        let target = try Dialing.parseTarget(address)
        let count = count
        try await HostRunner.withHost(identity: identity, logger: logger) { host in
            let connection = try await Dialing.dial(target, on: host)
            let negotiated: MultistreamSelect.Negotiated
            do {
                negotiated = try await connection.newStream(protocols: [Ping.protocolID])
            } catch {
                throw CLIError(error, context: "peer \(connection.remotePeer) does not answer ping")
            }
            for sequence in 1...count {
                do {
                    let rtt = try await Ping.ping(on: negotiated.stream)
                    let milliseconds = Double(rtt.components.seconds) * 1000 + Double(rtt.components.attoseconds) / 1e15
                    Output.line("pong from \(connection.remotePeer): seq=\(sequence) time=\(String(format: "%.3f", milliseconds)) ms")
                } catch {
                    throw CLIError(error, context: "ping \(sequence) failed")
                }
            }
            try? await negotiated.stream.closeWrite()
        }
    }
}
