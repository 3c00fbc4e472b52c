import NIOCore
import NIOPosix

/// Opens and accepts TCP connections (the only transport so far) as `TCPByteStream`s.
/// This is the one place in `LibP2P` that touches sockets (NIOPosix).
public struct TCPTransport: Sendable {
    /// A bound listening socket and the connections it accepts.
    public struct Listener: Sendable {
        /// The server channel; close it to stop listening.
        public let channel: any Channel
        /// The address actually bound (port 0 resolved).
        public let localAddress: SocketAddress
        /// Accepted connections, in order.
        public let connections: AsyncStream<TCPByteStream>
    }

    /// How long a dial may take before it fails.
    public static let connectTimeout = TimeAmount.seconds(10)
    /// Socket reads grow up to 256 KiB so a fast stream needs few wake-ups.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 256 * 1024)
    /// Bytes queued in NIO before writers wait (see `TCPByteStream.write`).
    static let writeWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 512 * 1024, high: 1024 * 1024)
    /// The listen backlog.
    public static let listenBacklog: Int32 = 256

    let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
    }

    /// Connects to `host:port`.
    public func dial(host: String, port: Int) async throws -> TCPByteStream {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(Self.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.recvAllocator, value: Self.receiveAllocator)
            .channelOption(.writeBufferWaterMark, value: Self.writeWaterMark)
        do {
            // The handler must be in place before the channel becomes active: a listener sends
            // its multistream header at once, and bytes read before then would be dropped.
            return try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = TCPByteStream(channel: channel)
                    try channel.pipeline.syncOperations.addHandler(TCPByteStreamHandler(stream: connection))
                    return connection
                }
            }
        } catch let error as LibP2PError {
            throw error
        } catch {
            throw LibP2PError(.dialFailed, "cannot connect to \(host):\(port)", underlying: error)
        }
    }

    /// Listens on `host:port` (port 0 picks a free one).
    public func listen(host: String, port: Int) async throws -> Listener {
        let (stream, continuation) = AsyncStream<TCPByteStream>.makeStream()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Self.listenBacklog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.recvAllocator, value: Self.receiveAllocator)
            .childChannelOption(.writeBufferWaterMark, value: Self.writeWaterMark)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = TCPByteStream(channel: channel)
                    try channel.pipeline.syncOperations.addHandler(TCPByteStreamHandler(stream: connection))
                    continuation.yield(connection)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw LibP2PError(.unsupportedAddress, "cannot listen on \(host):\(port)", underlying: error)
        }
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        guard let local = channel.localAddress else {
            throw LibP2PError(.unsupportedAddress, "listener has no local address")
        }
        return Listener(channel: channel, localAddress: local, connections: stream)
    }

    /// Listens on a Unix domain socket at `path` (replacing a stale socket file). Used for the
    /// node's local control socket, not for libp2p.
    public func listen(unixDomainSocketPath path: String) async throws -> Listener {
        let (stream, continuation) = AsyncStream<TCPByteStream>.makeStream()
        let bootstrap = ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = TCPByteStream(channel: channel)
                    try channel.pipeline.syncOperations.addHandler(TCPByteStreamHandler(stream: connection))
                    continuation.yield(connection)
                }
            }
        let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        guard let local = channel.localAddress else {
            throw LibP2PError(.unsupportedAddress, "listener has no local address")
        }
        return Listener(channel: channel, localAddress: local, connections: stream)
    }

    /// Connects to a Unix domain socket at `path`.
    public func dial(unixDomainSocketPath path: String) async throws -> TCPByteStream {
        do {
            return try await ClientBootstrap(group: group)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let connection = TCPByteStream(channel: channel)
                        try channel.pipeline.syncOperations.addHandler(TCPByteStreamHandler(stream: connection))
                        return connection
                    }
                }
        } catch {
            throw LibP2PError(.dialFailed, "cannot connect to \(path)", underlying: error)
        }
    }
}
