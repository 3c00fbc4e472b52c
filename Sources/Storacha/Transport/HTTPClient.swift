import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client over SwiftNIO: one connection per request (`Connection: close`),
/// the whole body in memory, at most ``maxRedirects`` same-scheme redirects for GET.
///
/// Only `http://` URLs: TLS would need NIOSSL, which is not a dependency of this package, so
/// talking to the hosted `https://` service needs a TLS-capable transport plugged in via
/// ``StorachaTransport`` (see ``StorachaClient``).
public struct HTTPClient: Sendable {
    /// The longest response body read, in bytes.
    public static let maxResponseBodyLength = 256 << 20
    /// The most redirects followed.
    public static let maxRedirects = 4

    private let group: any EventLoopGroup
    /// How long connecting may take.
    public var connectTimeout: TimeAmount

    /// A client on `group` (the shared NIO singleton by default).
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: TimeAmount = .seconds(10)) {
        self.group = group
        self.connectTimeout = connectTimeout
    }

    /// Sends `request` and returns the response, following redirects for GET.
    ///
    /// - Throws: ``StorachaError`` `.httpFailure` for unsupported URLs, connection failures,
    ///   protocol errors, bodies over ``maxResponseBodyLength`` and redirect loops. Non-2xx
    ///   statuses are returned, not thrown.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var current = request
        for _ in 0...Self.maxRedirects {
            let response = try await exchange(current)
            guard current.method == "GET", [301, 302, 303, 307, 308].contains(response.status),
                  let location = response.header("location"), let next = URL(string: location, relativeTo: current.url)?.absoluteURL
            else { return response }
            current.url = next
        }
        throw StorachaError(.httpFailure, "more than \(Self.maxRedirects) redirects from \(request.url)")
    }

    private func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.url.scheme?.lowercased() == "http", let host = request.url.host, !host.isEmpty else {
            throw StorachaError(.httpFailure, "only http:// URLs are supported here (no TLS in this build): \(request.url)")
        }
        let port = request.url.port ?? 80
        var path = request.url.path.isEmpty ? "/" : request.url.path
        if let query = request.url.query { path += "?" + query }

        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw StorachaError(.httpFailure, "cannot connect to \(host):\(port)", underlying: error)
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: path)
                head.headers.add(name: "Host", value: request.url.port.map { "\(host):\($0)" } ?? host)
                for header in request.headers { head.headers.add(name: header.name, value: header.value) }
                head.headers.replaceOrAdd(name: "Content-Length", value: String(request.body.count))
                head.headers.replaceOrAdd(name: "Connection", value: "close")
                // One write, one flush: the server may answer and close as soon as the body is
                // complete, so a separate `.end` write could meet a closed channel.
                var parts: [HTTPClientRequestPart] = [.head(head)]
                if !request.body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: request.body)))) }
                parts.append(.end(nil))
                try await outbound.write(contentsOf: parts)

                var status: Int?
                var headers: [(name: String, value: String)] = []
                var body: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let responseHead):
                        status = Int(responseHead.status.code)
                        headers = responseHead.headers.map { ($0.name, $0.value) }
                    case .body(let buffer):
                        guard body.count + buffer.readableBytes <= Self.maxResponseBodyLength else {
                            throw StorachaError(.limitExceeded, "response body exceeds \(Self.maxResponseBodyLength) bytes")
                        }
                        body += buffer.readableBytesView
                    case .end:
                        guard let status else { throw StorachaError(.httpFailure, "response ended before its head") }
                        return HTTPResponse(status: status, headers: headers, body: body)
                    }
                }
                throw StorachaError(.httpFailure, "connection closed before the response ended")
            }
        } catch let error as StorachaError {
            throw error
        } catch {
            throw StorachaError(.httpFailure, "\(request.method) \(request.url) failed", underlying: error)
        }
    }
}
