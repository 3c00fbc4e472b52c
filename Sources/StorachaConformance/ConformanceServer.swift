import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Storacha
import Synchronization

/// A local HTTP/1.1 server (SwiftNIO) in front of a ``ConformanceService``: the stand-in for
/// the hosted Storacha API, which cannot be reached from here. Listens on 127.0.0.1 only.
public final class ConformanceServer: Sendable {
    /// The service behind the server.
    public let service: ConformanceService
    private let group: any EventLoopGroup
    private let channel = Mutex<(any Channel)?>(nil)

    // TLS test hook (for HTTPClient's https tests): see `init(service:group:secureChannel:)`.
    private let secureChannel: (@Sendable (any Channel) throws -> Void)?

    /// A server for `service` on `group`.
    ///
    /// TLS test hook: if `secureChannel` is given, it runs on every accepted connection before
    /// the HTTP handlers (to add e.g. a `NIOSSLServerHandler`; this target does not depend on
    /// NIOSSL) and ``start(port:)`` returns an `https://127.0.0.1:port` URL.
    public init(
        service: ConformanceService, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        secureChannel: (@Sendable (any Channel) throws -> Void)? = nil
    ) {
        self.service = service
        self.group = group
        self.secureChannel = secureChannel
    }

    /// Binds 127.0.0.1:`port` (0 = any free port) and returns the base URL.
    public func start(port: Int = 0) async throws -> URL {
        let service = self.service
        let secureChannel = self.secureChannel
        let bound = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try secureChannel?(channel)  // TLS test hook
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ConformanceHTTPHandler(service: service))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        guard let boundPort = bound.localAddress?.port, let url = URL(string: "\(secureChannel == nil ? "http" : "https")://127.0.0.1:\(boundPort)") else {
            try await bound.close()
            throw StorachaError(.httpFailure, "server bound without a port")
        }
        channel.withLock { $0 = bound }
        service.setBaseURL(url)
        return url
    }

    /// Closes the listening socket.
    public func stop() async throws {
        let bound = channel.withLock { current -> (any Channel)? in
            defer { current = nil }
            return current
        }
        try await bound?.close()
    }
}

/// Collects one request (bounded by ``ConformanceService/maxRequestBodyLength``), answers it and
/// closes the connection.
final class ConformanceHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: ConformanceService
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(service: ConformanceService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
            tooLarge = false
        case .body(let buffer):
            if body.count + buffer.readableBytes > ConformanceService.maxRequestBodyLength {
                tooLarge = true
                body = []
            } else if !tooLarge {
                body += buffer.readableBytesView
            }
        case .end:
            guard let head else { return }
            let response: HTTPResponse
            if tooLarge {
                response = HTTPResponse(status: 413)
            } else {
                response = service.handle(
                    method: head.method.rawValue, path: head.uri,
                    headers: head.headers.map { ($0.name, $0.value) }, body: body
                )
            }
            self.head = nil
            body = []
            write(response, context: context)
        }
    }

    private func write(_ response: HTTPResponse, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(response.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: "close")
        let responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        let channel = context.channel
        done.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}
