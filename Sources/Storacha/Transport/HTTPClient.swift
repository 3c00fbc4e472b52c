import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A minimal HTTP/1.1 client over SwiftNIO: one connection per request (`Connection: close`),
/// the whole body in memory, at most ``maxRedirects`` redirects for GET (never from https to http).
///
/// Speaks `http://` (port 80 by default) and `https://` (port 443 by default). For https a
/// `NIOSSLClientHandler` is put in front of the HTTP codec: TLS 1.2 or later, the server
/// certificate verified against the system trust store (`TLSConfiguration.makeClientConfiguration()`)
/// and against the URL's host (SNI = that host when it is a name; IP literals are checked against
/// the certificate's IP addresses and sent without SNI). Pass a ``tlsConfiguration`` to trust extra
/// roots (tests, private deployments); a minimum below TLS 1.2 is raised to 1.2.
///
/// TLS failures throw ``StorachaError`` with ``StorachaError/Code/untrustedCertificate``,
/// ``StorachaError/Code/hostnameMismatch`` or, for anything else in the handshake,
/// ``StorachaError/Code/tlsFailure``.
public struct HTTPClient: Sendable {
    /// The longest response body read, in bytes.
    public static let maxResponseBodyLength = 256 << 20
    /// The most redirects followed.
    public static let maxRedirects = 4

    private let group: any EventLoopGroup
    /// How long connecting may take.
    public var connectTimeout: TimeAmount
    /// The TLS configuration for `https://` URLs (minimum version at least TLS 1.2).
    public let tlsConfiguration: TLSConfiguration
    /// The `NIOSSLContext` built from ``tlsConfiguration`` on first https use (loading the
    /// system trust store is not free), shared by copies of this client.
    private let tlsContext: TLSContextCache

    /// A client on `group` (the shared NIO singleton by default) that verifies https servers
    /// with `tlsConfiguration` (the system trust store by default).
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: TimeAmount = .seconds(10),
        tlsConfiguration: TLSConfiguration = .makeClientConfiguration()
    ) {
        var tls = tlsConfiguration
        if [.tlsv1, .tlsv11].contains(tls.minimumTLSVersion) { tls.minimumTLSVersion = .tlsv12 }
        self.group = group
        self.connectTimeout = connectTimeout
        self.tlsConfiguration = tls
        self.tlsContext = TLSContextCache(tls)
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
                  let location = response.header("location"), let next = URL(string: location, relativeTo: current.url)?.absoluteURL,
                  // Never downgrade: an https redirect to http is returned, not followed.
                  !(current.url.scheme?.lowercased() == "https" && next.scheme?.lowercased() != "https")
            else { return response }
            current.url = next
        }
        throw StorachaError(.httpFailure, "more than \(Self.maxRedirects) redirects from \(request.url)")
    }

    private func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        let scheme = request.url.scheme?.lowercased()
        guard scheme == "http" || scheme == "https", let host = request.url.host, !host.isEmpty else {
            throw StorachaError(.httpFailure, "only http:// and https:// URLs are supported: \(request.url)")
        }
        let secure = scheme == "https"
        let port = request.url.port ?? (secure ? 443 : 80)
        var path = request.url.path.isEmpty ? "/" : request.url.path
        if let query = request.url.query { path += "?" + query }
        let isIPLiteral = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        let sslContext: NIOSSLContext?
        do {
            sslContext = secure ? try tlsContext.get() : nil
        } catch {
            throw StorachaError(.tlsFailure, "cannot set up TLS for \(host)", underlying: error)
        }
        // SNI and name checks use the host name; for IP literals NIOSSL checks the peer address
        // against the certificate's IP SANs (SNI must not carry an IP).
        let serverHostname: String? = isIPLiteral ? nil : host

        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(connectTimeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                            )
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Self.tlsError(error, host: host) ?? StorachaError(.httpFailure, "cannot connect to \(host):\(port)", underlying: error)
        }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: path)
                let hostHeader = host.contains(":") ? "[\(host)]" : host
                head.headers.add(name: "Host", value: request.url.port.map { "\(hostHeader):\($0)" } ?? hostHeader)
                for header in request.headers { head.headers.add(name: header.name, value: header.value) }
                head.headers.replaceOrAdd(name: "Content-Length", value: String(request.body.count))
                head.headers.replaceOrAdd(name: "Connection", value: "close")
                // One write, one flush: the server may answer and close as soon as the body is
                // complete, so a separate `.end` write could meet a closed channel.
                var parts: [HTTPClientRequestPart] = [.head(head)]
                if !request.body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: request.body)))) }
                parts.append(.end(nil))
                do {
                    try await outbound.write(contentsOf: parts)
                } catch {
                    // The channel closed under the write (e.g. a failed TLS handshake): the
                    // inbound side ends with the reason, which says more than "closed channel".
                    for try await _ in inbound {}
                    throw error
                }

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
            throw Self.tlsError(error, host: host)
                ?? StorachaError(.httpFailure, "\(request.method) \(request.url) failed", underlying: error)
        }
    }

    /// `error` as a TLS ``StorachaError`` if it came from NIOSSL, else nil.
    static func tlsError(_ error: any Error, host: String) -> StorachaError? {
        if let extra = error as? NIOSSLExtraError {
            if extra == .failedToValidateHostname || extra == .serverHostnameImpossibleToMatch {
                return StorachaError(.hostnameMismatch, "the TLS certificate of \(host) is not valid for that name", underlying: error)
            }
            return StorachaError(.tlsFailure, "TLS with \(host) failed", underlying: error)
        }
        guard let ssl = error as? NIOSSLError else { return nil }
        if case .handshakeFailed(let reason) = ssl, String(describing: reason).contains("CERTIFICATE_VERIFY_FAILED") {
            return StorachaError(.untrustedCertificate, "the TLS certificate of \(host) is not trusted", underlying: error)
        }
        return StorachaError(.tlsFailure, "TLS with \(host) failed", underlying: error)
    }
}

extension StorachaError.Code {
    /// The server's TLS certificate does not chain to a trusted root (self-signed, unknown CA,
    /// expired).
    public static let untrustedCertificate = StorachaError.Code("untrusted certificate")
    /// The server's TLS certificate is valid but not for the host that was asked for.
    public static let hostnameMismatch = StorachaError.Code("hostname mismatch")
    /// Another TLS failure: handshake, protocol version, configuration.
    public static let tlsFailure = StorachaError.Code("TLS failure")
}

/// One `NIOSSLContext` per configuration, built on first use.
private final class TLSContextCache: Sendable {
    private let configuration: TLSConfiguration
    private let context = Mutex<NIOSSLContext?>(nil)

    init(_ configuration: TLSConfiguration) {
        self.configuration = configuration
    }

    func get() throws -> NIOSSLContext {
        try context.withLock { cached in
            if let cached { return cached }
            let made = try NIOSSLContext(configuration: configuration)
            cached = made
            return made
        }
    }
}
