import Logging
import Multiformats
import NIOCore
import NIOPosix
import Synchronization

/// A libp2p host: listens and dials over TCP, upgrades every connection with
/// multistream-select, Noise and Yamux, serves registered protocols (Identify and Ping
/// always), and keeps a peer store (libp2p specs connections/README.md, identify/README.md).
///
/// `run()` owns all background work (accept loops, connection read loops, stream handlers) in
/// one task group; run it for as long as the host is used, e.g. as a service. `shutdown()` or
/// cancelling `run()` closes listeners and connections and makes `run()` return.
public final class Host: Sendable {
    /// Serves one inbound stream whose protocol was negotiated.
    public typealias StreamHandler = @Sendable (IncomingStream) async throws -> Void

    /// An inbound stream handed to a protocol handler.
    public struct IncomingStream: Sendable {
        /// The negotiated protocol id.
        public var protocolID: String
        /// The stream (bytes after the negotiation included).
        public var stream: BufferedByteStream
        /// The connection it arrived on.
        public var connection: Connection
    }

    /// Our PeerID.
    public let peerID: PeerID
    /// What we know about other peers.
    public let peerStore = PeerStore()
    let configuration: HostConfiguration
    let logger: Logger
    let transport: TCPTransport

    private typealias Work = @Sendable () async -> Void

    private struct State {
        var handlers: [String: StreamHandler] = [:]
        var connections: [UInt64: Connection] = [:]
        var listeners: [any Channel] = []
        var listenAddresses: [Multiaddr] = []
        var nextConnectionID: UInt64 = 1
        var pendingHandshakes = 0
        var eventSubscribers: [UInt64: AsyncStream<HostEvent>.Continuation] = [:]
        var nextSubscriberID: UInt64 = 1
        var isShutDown = false
    }

    private let state = Mutex(State())
    private let work: AsyncStream<Work>
    private let workContinuation: AsyncStream<Work>.Continuation

    /// Creates a host; nothing happens on the network until `listen`/`dial` and `run()`.
    public init(configuration: HostConfiguration, logger: Logger = Logger(label: "p2pchat.libp2p"), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.peerID = configuration.identity.peerID
        self.logger = logger
        self.transport = TCPTransport(group: group)
        (self.work, self.workContinuation) = AsyncStream<Work>.makeStream()
        setHandler(for: IdentifyService.protocolID) { [unowned self] incoming in
            try await IdentifyService.respond(on: incoming, host: self)
        }
        setHandler(for: IdentifyService.pushProtocolID) { [unowned self] incoming in
            try await IdentifyService.receivePush(on: incoming, host: self)
        }
        setHandler(for: Ping.protocolID) { incoming in
            try await Ping.serve(incoming.stream)
        }
    }

    // MARK: Running

    /// Runs all background work until `shutdown()` or cancellation.
    public func run() async {
        await withDiscardingTaskGroup { group in
            // Ends at shutdown (the stream finishes) or when this task is cancelled.
            for await item in work {
                group.addTask { await item() }
            }
            // On cancellation, close everything so that the children end too.
            await shutdown()
        }
    }

    /// Runs the host in the background while `body` runs, then shuts it down and waits for
    /// its work to end (also when `body` throws).
    public func withRunning<T: Sendable>(_ body: @Sendable (Host) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.run() }
            do {
                let result = try await body(self)
                await shutdown()
                try await group.waitForAll()
                return result
            } catch {
                await shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// Closes listeners and connections; `run()` returns once their tasks have ended.
    public func shutdown() async {
        let (listeners, connections, subscribers): ([any Channel], [Connection], [AsyncStream<HostEvent>.Continuation]) = state.withLock { state in
            state.isShutDown = true
            let result = (state.listeners, Array(state.connections.values), Array(state.eventSubscribers.values))
            state.listeners = []
            state.eventSubscribers = [:]
            return result
        }
        for listener in listeners { try? await listener.close() }
        for connection in connections { await connection.close() }
        workContinuation.finish()
        for subscriber in subscribers { subscriber.finish() }
    }

    private func submit(_ item: @escaping Work) throws {
        guard !state.withLock({ $0.isShutDown }) else {
            throw LibP2PError(.closed, "host is shut down")
        }
        workContinuation.yield(item)
    }

    // MARK: Protocol handlers

    /// Registers `handler` for `protocolID`, replacing any earlier one. Identify lists it, and
    /// connected peers hear of it through Identify Push.
    public func setHandler(for protocolID: String, _ handler: @escaping StreamHandler) {
        let isNew = state.withLock { $0.handlers.updateValue(handler, forKey: protocolID) == nil }
        if isNew { pushIdentifyToConnectedPeers() }
    }

    /// Removes the handler for `protocolID`; connected peers hear of it through Identify Push.
    public func removeHandler(for protocolID: String) {
        let removed = state.withLock { $0.handlers.removeValue(forKey: protocolID) != nil }
        if removed { pushIdentifyToConnectedPeers() }
    }

    /// Sends our current Identify message to every connected peer (`/ipfs/id/push/1.0.0`),
    /// in the background; peers that do not support push are skipped.
    public func pushIdentifyToConnectedPeers() {
        let connections = self.connections
        guard !connections.isEmpty else { return }
        try? submit { [self] in
            await withDiscardingTaskGroup { group in
                for connection in connections {
                    group.addTask {
                        do {
                            try await IdentifyService.push(to: connection, host: self)
                        } catch {
                            self.logger.debug("identify push failed", metadata: ["peer": "\(connection.remotePeer)", "reason": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    /// The protocols we serve, sorted.
    public var protocols: [String] {
        state.withLock { $0.handlers.keys.sorted() }
    }

    // MARK: Events

    /// A new stream of host events, from now on. Finishes at shutdown.
    public func events() -> AsyncStream<HostEvent> {
        let (stream, continuation) = AsyncStream<HostEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let id = state.withLock { state in
            let id = state.nextSubscriberID
            state.nextSubscriberID += 1
            state.eventSubscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.eventSubscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func emit(_ event: HostEvent) {
        let subscribers = state.withLock { Array($0.eventSubscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    // MARK: Listening

    /// Our listen addresses, each ending in `/p2p/<our peer id>`.
    public var listenAddresses: [Multiaddr] {
        state.withLock { $0.listenAddresses }.map { $0.appending(.p2p(peerID.multihash)) }
    }

    /// Listens on a `/ip4/…/tcp/…` or `/ip6/…/tcp/…` address (port 0 picks one) and returns the
    /// bound addresses, each ending in `/p2p/<our peer id>`.
    public func listen(on address: Multiaddr) async throws -> [Multiaddr] {
        let (host, port) = try Self.tcpEndpoint(of: address, allowDNS: false)
        let listener = try await transport.listen(host: host, port: port)
        let bound = try Self.multiaddr(of: listener.localAddress)
        let rejected = state.withLock { state -> Bool in
            if state.isShutDown { return true }
            state.listeners.append(listener.channel)
            state.listenAddresses.append(bound)
            return false
        }
        if rejected {
            try? await listener.channel.close()
            throw LibP2PError(.closed, "host is shut down")
        }
        try submit { [self] in
            await withDiscardingTaskGroup { group in
                for await connection in listener.connections {
                    group.addTask { await self.acceptInbound(connection) }
                }
            }
        }
        logger.info("listening", metadata: ["address": "\(bound)"])
        return [bound.appending(.p2p(peerID.multihash))]
    }

    private func acceptInbound(_ raw: TCPByteStream) async {
        let admitted = state.withLock { state -> Bool in
            guard state.connections.count < configuration.maxConnections,
                  state.pendingHandshakes < configuration.maxPendingHandshakes else { return false }
            state.pendingHandshakes += 1
            return true
        }
        let remote = raw.remoteAddress.flatMap { try? Self.multiaddr(of: $0) }
        guard admitted else {
            logger.warning("refusing connection: limit reached", metadata: ["remote": "\(remote.map { "\($0)" } ?? "?")"])
            await raw.close()
            return
        }
        let connection: Connection
        do {
            connection = try await withDeadline(configuration.handshakeTimeout, closing: raw) { [self] in
                try await upgradeInbound(raw)
            }
        } catch {
            state.withLock { $0.pendingHandshakes -= 1 }
            logger.info("inbound connection failed during upgrade", metadata: ["remote": "\(remote.map { "\($0)" } ?? "?")", "reason": "\(error)"])
            await raw.close()
            return
        }
        state.withLock { $0.pendingHandshakes -= 1 }
        await serve(connection)
    }

    private func upgradeInbound(_ raw: TCPByteStream) async throws -> Connection {
        let security = try await MultistreamSelect.handle(on: raw, supports: { $0 == LibP2PNoiseHandshake.protocolID }, listing: { [LibP2PNoiseHandshake.protocolID] })
        let secured = try await LibP2PNoiseHandshake.respond(on: security.stream, identity: configuration.identity, muxers: HostConfiguration.defaultMuxers)
        if secured.earlyMuxer == nil {
            let muxer = try await MultistreamSelect.handle(on: secured.stream, supports: { HostConfiguration.defaultMuxers.contains($0) }, listing: { HostConfiguration.defaultMuxers })
            return try makeConnection(secured, stream: muxer.stream, raw: raw, direction: .inbound)
        }
        return try makeConnection(secured, stream: secured.stream, raw: raw, direction: .inbound)
    }

    // MARK: Dialing

    /// Dials `address` (`/ip4|ip6|dns|dns4|dns6/…/tcp/…[/p2p/<id>]`), reusing an open connection
    /// to that peer if there is one. With a `/p2p/` component, a different remote identity fails
    /// with `.peerIDMismatch`. Requires `run()` to be running.
    public func dial(_ address: Multiaddr) async throws -> Connection {
        let expected = try address.peerIDMultihash.map { try PeerID(multihash: $0) }
        if let expected, let existing = connection(to: expected) { return existing }
        if expected == peerID {
            throw LibP2PError(.dialFailed, "refusing to dial ourselves")
        }
        let (host, port) = try Self.tcpEndpoint(of: address, allowDNS: true)
        let raw = try await transport.dial(host: host, port: port)
        let connection: Connection
        do {
            connection = try await withDeadline(configuration.handshakeTimeout, closing: raw) { [self] in
                let security = try await MultistreamSelect.select([LibP2PNoiseHandshake.protocolID], on: raw)
                let secured = try await LibP2PNoiseHandshake.initiate(
                    on: security.stream, identity: configuration.identity, expectedPeer: expected, muxers: HostConfiguration.defaultMuxers)
                if secured.earlyMuxer == nil {
                    let muxer = try await MultistreamSelect.select(HostConfiguration.defaultMuxers, on: secured.stream)
                    return try makeConnection(secured, stream: muxer.stream, raw: raw, direction: .outbound)
                }
                return try makeConnection(secured, stream: secured.stream, raw: raw, direction: .outbound)
            }
        } catch {
            await raw.close()
            throw error
        }
        peerStore.addAddresses([address], for: connection.remotePeer)
        try submit { [self] in await serve(connection) }
        return connection
    }

    /// Opens a stream to `peer` for the first of `protocols` it accepts, dialing a known address
    /// if there is no open connection.
    public func newStream(to peer: PeerID, protocols: [String]) async throws -> MultistreamSelect.Negotiated {
        if let connection = connection(to: peer) {
            return try await connection.newStream(protocols: protocols)
        }
        var lastError: (any Error)?
        for address in peerStore.record(for: peer)?.addresses ?? [] {
            do {
                let connection = try await dial(address.appending(.p2p(peer.multihash)))
                return try await connection.newStream(protocols: protocols)
            } catch {
                lastError = error
            }
        }
        throw LibP2PError(.dialFailed, "no reachable address for \(peer)", underlying: lastError)
    }

    /// An open connection to `peer`, if any.
    public func connection(to peer: PeerID) -> Connection? {
        state.withLock { state in
            state.connections.values.filter { $0.remotePeer == peer }.min { $0.id < $1.id }
        }
    }

    /// All open connections.
    public var connections: [Connection] {
        state.withLock { Array($0.connections.values) }
    }

    /// The peers we are connected to.
    public var connectedPeers: Set<PeerID> {
        Set(connections.map(\.remotePeer))
    }

    // MARK: Connections

    private func makeConnection(
        _ secured: LibP2PNoiseHandshake.Result, stream: any ByteStream, raw: TCPByteStream, direction: Connection.Direction
    ) throws -> Connection {
        let session = YamuxSession(connection: stream, isInitiator: direction == .outbound, configuration: configuration.yamux)
        let id = state.withLock { state in
            let id = state.nextConnectionID
            state.nextConnectionID += 1
            return id
        }
        return Connection(
            id: id, remotePeer: secured.remotePeerID, remotePublicKey: secured.remotePublicKey, direction: direction,
            remoteAddress: raw.remoteAddress.flatMap { try? Self.multiaddr(of: $0) },
            localAddress: raw.localAddress.flatMap { try? Self.multiaddr(of: $0) },
            session: session, negotiationTimeout: configuration.streamNegotiationTimeout)
    }

    /// Runs one connection: its Yamux read loop, inbound streams, and Identify towards the peer.
    private func serve(_ connection: Connection) async {
        let wasConnected = state.withLock { state -> Bool in
            let was = state.connections.values.contains { $0.remotePeer == connection.remotePeer }
            state.connections[connection.id] = connection
            return was
        }
        peerStore.update(connection.remotePeer) { $0.publicKey = connection.remotePublicKey }
        if !wasConnected {
            emit(.connected(connection.remotePeer, direction: connection.direction, remoteAddress: connection.remoteAddress))
        }
        logger.debug("connection open", metadata: ["peer": "\(connection.remotePeer)", "direction": "\(connection.direction)"])
        await withDiscardingTaskGroup { group in
            group.addTask {
                do {
                    try await connection.session.run()
                } catch {
                    self.logger.info("connection closed", metadata: ["peer": "\(connection.remotePeer)", "reason": "\(error)"])
                }
            }
            group.addTask {
                do {
                    try await IdentifyService.identify(connection, host: self)
                    self.emit(.identified(connection.remotePeer))
                } catch {
                    self.logger.debug("identify failed", metadata: ["peer": "\(connection.remotePeer)", "reason": "\(error)"])
                }
            }
            while let stream = try? await connection.session.acceptStream() {
                group.addTask { await self.handleInbound(stream, on: connection) }
            }
        }
        let stillConnected = state.withLock { state -> Bool in
            state.connections.removeValue(forKey: connection.id)
            return state.connections.values.contains { $0.remotePeer == connection.remotePeer }
        }
        if !stillConnected { emit(.disconnected(connection.remotePeer)) }
    }

    private func handleInbound(_ stream: YamuxStream, on connection: Connection) async {
        let negotiated: MultistreamSelect.Negotiated
        do {
            negotiated = try await withDeadline(configuration.streamNegotiationTimeout, closing: stream) { [self] in
                try await MultistreamSelect.handle(
                    on: stream,
                    supports: { protocolID in self.state.withLock { $0.handlers[protocolID] != nil } },
                    listing: { self.protocols })
            }
        } catch {
            logger.debug("inbound stream negotiation failed", metadata: ["peer": "\(connection.remotePeer)", "reason": "\(error)"])
            await stream.close()
            return
        }
        guard let handler = state.withLock({ $0.handlers[negotiated.protocolID] }) else {
            await stream.close()
            return
        }
        do {
            try await handler(IncomingStream(protocolID: negotiated.protocolID, stream: negotiated.stream, connection: connection))
            try? await negotiated.stream.closeWrite()
        } catch {
            logger.info("stream handler failed", metadata: ["protocol": "\(negotiated.protocolID)", "peer": "\(connection.remotePeer)", "reason": "\(error)"])
            await negotiated.stream.close()
        }
    }

    // MARK: Addresses

    /// The TCP endpoint of a multiaddr: `(ip4|ip6|dns|dns4|dns6)/tcp[/p2p]`.
    static func tcpEndpoint(of address: Multiaddr, allowDNS: Bool) throws -> (host: String, port: Int) {
        let parts = address.removingPeerID().components
        guard parts.count == 2, case .tcp(let port) = parts[1] else {
            throw LibP2PError(.unsupportedAddress, "only /ip4|ip6|dns…/…/tcp/PORT addresses are supported, got \(address)")
        }
        switch parts[0] {
        case .ip4, .ip6:
            guard let host = parts[0].valueText else { break }
            return (host, Int(port))
        case .dns(let name), .dns4(let name), .dns6(let name):
            guard allowDNS else { break }
            return (name, Int(port))
        default:
            break
        }
        throw LibP2PError(.unsupportedAddress, "cannot use \(address) for TCP")
    }

    /// The multiaddr of a socket address.
    static func multiaddr(of socketAddress: SocketAddress) throws -> Multiaddr {
        guard let ip = socketAddress.ipAddress, let port = socketAddress.port else {
            throw LibP2PError(.unsupportedAddress, "not an IP socket address: \(socketAddress)")
        }
        switch socketAddress.protocol {
        case .inet: return try Multiaddr("/ip4/\(ip)/tcp/\(port)")
        case .inet6: return try Multiaddr("/ip6/\(ip)/tcp/\(port)")
        default: throw LibP2PError(.unsupportedAddress, "unsupported socket family: \(socketAddress)")
        }
    }
}
