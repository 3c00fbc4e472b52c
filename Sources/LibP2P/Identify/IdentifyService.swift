import Multiformats
import NIOCore

/// Identify and Identify Push (libp2p specs identify/README.md): on every new connection we
/// ask the peer who it is; we answer the same question with our key, listen addresses, the
/// address we observe the peer at, and every protocol we serve.
public enum IdentifyService {
    /// The Identify protocol id.
    public static let protocolID = "/ipfs/id/1.0.0"
    /// The Identify Push protocol id.
    public static let pushProtocolID = "/ipfs/id/push/1.0.0"

    /// What Identify told us about a peer.
    public struct Result: Sendable, Hashable {
        /// The peer, as authenticated by the connection.
        public var peerID: PeerID
        /// The decoded message.
        public var message: IdentifyMessage
        /// The listen addresses that parsed.
        public var listenAddresses: [Multiaddr]
        /// Our address as the peer sees it, if it parsed.
        public var observedAddress: Multiaddr?
    }

    /// Our Identify message for `connection`.
    static func makeMessage(host: Host, for connection: Connection) -> IdentifyMessage {
        var message = IdentifyMessage()
        message.publicKey = host.configuration.identity.publicKey.protobufBytes
        message.listenAddrs = host.listenAddresses.map { $0.removingPeerID().bytes }
        message.protocols = host.protocols
        message.observedAddr = connection.remoteAddress?.bytes
        message.protocolVersion = HostConfiguration.protocolVersion
        message.agentVersion = host.configuration.agentVersion
        return message
    }

    /// Answers an Identify request: writes our message and closes our side.
    static func respond(on incoming: Host.IncomingStream, host: Host) async throws {
        try await incoming.stream.writeLengthPrefixed(makeMessage(host: host, for: incoming.connection).encoded())
        try await incoming.stream.closeWrite()
    }

    /// Receives an Identify Push and updates the peer store.
    static func receivePush(on incoming: Host.IncomingStream, host: Host) async throws {
        let message = try await readMessage(from: incoming.stream)
        _ = try record(message, from: incoming.connection, in: host)
        host.emit(.identified(incoming.connection.remotePeer))
    }

    /// Pushes our current Identify message to the peer on `connection`.
    static func push(to connection: Connection, host: Host) async throws {
        let negotiated = try await connection.newStream(protocols: [pushProtocolID])
        do {
            try await negotiated.stream.writeLengthPrefixed(makeMessage(host: host, for: connection).encoded())
            try await negotiated.stream.closeWrite()
        } catch {
            await negotiated.stream.close()
            throw error
        }
    }

    /// Asks the peer on `connection` to identify itself and records the answer.
    @discardableResult
    public static func identify(_ connection: Connection, host: Host) async throws -> Result {
        let negotiated = try await connection.newStream(protocols: [protocolID])
        let message: IdentifyMessage
        do {
            message = try await readMessage(from: negotiated.stream)
        } catch {
            await negotiated.stream.close()
            throw error
        }
        try? await negotiated.stream.closeWrite()
        return try record(message, from: connection, in: host)
    }

    /// Reads one or more length-prefixed Identify parts until EOF and merges them.
    static func readMessage(from stream: BufferedByteStream) async throws -> IdentifyMessage {
        var message = IdentifyMessage()
        var parts = 0
        while true {
            let length: UInt64
            do {
                length = try await stream.readVarint()
            } catch let error as LibP2PError where error.code == .unexpectedEOF && parts > 0 {
                return message
            }
            guard length <= UInt64(IdentifyMessage.maxMessageLength) else {
                throw LibP2PError(.frameTooLarge, "identify message of \(length) bytes exceeds \(IdentifyMessage.maxMessageLength)")
            }
            let body = try await stream.readExactly(Int(length))
            try message.merge(parsing: body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? [])
            parts += 1
            guard parts <= IdentifyMessage.maxParts else {
                throw LibP2PError(.limitExceeded, "identify sent more than \(IdentifyMessage.maxParts) parts")
            }
        }
    }

    /// Checks the message against the connection's peer and stores it.
    static func record(_ message: IdentifyMessage, from connection: Connection, in host: Host) throws -> Result {
        if let keyBytes = message.publicKey {
            let key = try PublicKey(protobufBytes: keyBytes)
            guard PeerID(publicKey: key) == connection.remotePeer else {
                throw LibP2PError(.peerIDMismatch, "identify public key does not belong to \(connection.remotePeer)")
            }
        }
        let addresses = message.listenAddrs.compactMap { try? Multiaddr(bytes: $0) }
        let observed = message.observedAddr.flatMap { try? Multiaddr(bytes: $0) }
        host.peerStore.addAddresses(addresses, for: connection.remotePeer)
        host.peerStore.update(connection.remotePeer) { record in
            record.protocols = message.protocols
            record.agentVersion = message.agentVersion
            record.protocolVersion = message.protocolVersion
            record.observedAddress = observed
        }
        return Result(peerID: connection.remotePeer, message: message, listenAddresses: addresses, observedAddress: observed)
    }
}
