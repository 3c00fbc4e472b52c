import Multiformats
import NIOCore
import Synchronization

/// A secured, multiplexed connection to one peer: TCP, then Noise, then Yamux
/// (libp2p specs connections/README.md §Upgrading connections).
public final class Connection: Sendable, Identifiable {
    /// Which side opened the connection.
    public enum Direction: Sendable, Hashable {
        /// We dialed.
        case outbound
        /// The peer dialed us.
        case inbound
    }

    /// The multistream-select protocol id of Yamux.
    public static let yamuxProtocolID = "/yamux/1.0.0"

    /// A host-unique id for this connection.
    public let id: UInt64
    /// The authenticated remote peer.
    public let remotePeer: PeerID
    /// The remote identity key from the Noise handshake.
    public let remotePublicKey: PublicKey
    /// Who dialed.
    public let direction: Direction
    /// The remote transport address (without `/p2p/`).
    public let remoteAddress: Multiaddr?
    /// Our transport address on this connection.
    public let localAddress: Multiaddr?
    let session: YamuxSession
    private let negotiationTimeout: Duration

    init(
        id: UInt64, remotePeer: PeerID, remotePublicKey: PublicKey, direction: Direction,
        remoteAddress: Multiaddr?, localAddress: Multiaddr?, session: YamuxSession, negotiationTimeout: Duration
    ) {
        self.id = id
        self.remotePeer = remotePeer
        self.remotePublicKey = remotePublicKey
        self.direction = direction
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.session = session
        self.negotiationTimeout = negotiationTimeout
    }

    /// Opens a stream and negotiates the first of `protocols` the peer accepts.
    public func newStream(protocols: [String]) async throws -> MultistreamSelect.Negotiated {
        let stream = try await session.openStream()
        do {
            return try await withDeadline(negotiationTimeout, closing: stream) {
                try await MultistreamSelect.select(protocols, on: stream)
            }
        } catch {
            await stream.close()
            throw error
        }
    }

    /// Closes the connection and every stream on it.
    public func close() async {
        await session.close()
    }
}

/// Runs `body`; if it has not finished after `duration`, closes `stream` if given (which makes
/// pending reads end) and throws `timeoutError(duration)`, by default ``LibP2PError`` `.timeout`.
public func withDeadline<T: Sendable>(
    _ duration: Duration,
    closing stream: (any ByteStream)?,
    orThrow timeoutError: @escaping @Sendable (Duration) -> any Error = { LibP2PError(.timeout, "no answer within \($0)") },
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            return nil
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let value = next { return value }
            if let stream { await stream.close() }
            throw timeoutError(duration)
        }
        throw timeoutError(duration)
    }
}
