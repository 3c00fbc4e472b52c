import LibP2P
import Multiformats

/// Shared dialing for commands that talk to one peer.
enum Dialing {
    /// Parses a peer multiaddr; it must name the peer (`/p2p/<id>`) so the handshake can check it.
    static func parseTarget(_ text: String) throws -> Multiaddr {
        let address: Multiaddr
        do {
            address = try Multiaddr(text)
        } catch {
            throw CLIError("invalid multiaddr '\(text)': \(error)")
        }
        guard address.peerIDMultihash != nil else {
            throw CLIError("'\(text)' has no /p2p/<peer id>: add the peer id so its identity can be checked")
        }
        return address
    }

    /// Dials `address`, turning failures into one-line reasons.
    static func dial(_ address: Multiaddr, on host: LibP2P.Host) async throws -> Connection {
        do {
            return try await host.dial(address)
        } catch let error as LibP2PError {
            switch error.code {
            case .dialFailed: throw CLIError(error, context: "unreachable: \(address)")
            case .peerIDMismatch: throw CLIError("wrong peer: \(error.message)")
            case .timeout: throw CLIError(error, context: "handshake timed out with \(address)")
            case .unsupportedAddress: throw CLIError(error, context: "cannot dial \(address)")
            default: throw CLIError(error, context: "handshake refused by \(address)")
            }
        }
    }
}
