import ArgumentParser
import Foundation
import LibP2P
import Multiformats

/// `p2pchat identify`: dials a peer and prints what Identify tells about it.
struct IdentifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "identify", abstract: "Dial a peer and show what it says about itself (Identify).")

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The peer's multiaddr, ending in /p2p/<peer id>.")
    var address: String

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Report: Codable {
        var peerID: String
        var agentVersion: String?
        var protocolVersion: String?
        var protocols: [String]
        var listenAddrs: [String]
        var observedAddr: String?
    }

    func run() async throws {
        let identity = try global.openHome().loadOrCreateIdentity()
        let logger = try global.makeLogger()
        let target = try Dialing.parseTarget(address)
        let report = try await HostRunner.withHost(identity: identity, logger: logger) { host in
            let connection = try await Dialing.dial(target, on: host)
            let result: IdentifyService.Result
            do {
                result = try await IdentifyService.identify(connection, host: host)
            } catch {
                throw CLIError(error, context: "identify failed")
            }
            return Report(
                peerID: result.peerID.description,
                agentVersion: result.message.agentVersion,
                protocolVersion: result.message.protocolVersion,
                protocols: result.message.protocols,
                listenAddrs: result.listenAddresses.map(\.description),
                observedAddr: result.observedAddress?.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Output.line(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            Output.line("peer: \(report.peerID)")
            Output.line("agent: \(report.agentVersion ?? "-")")
            Output.line("protocol version: \(report.protocolVersion ?? "-")")
            Output.line("observed address: \(report.observedAddr ?? "-")")
            for address in report.listenAddrs { Output.line("listen: \(address)") }
            for protocolID in report.protocols { Output.line("protocol: \(protocolID)") }
        }
    }
}
