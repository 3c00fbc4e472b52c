import Foundation
import Synchronization

/// Who may talk to the local web server: only pages served by this very server, reached under a
/// loopback host name, carrying the home's access token.
///
/// - Host header: `127.0.0.1`, `localhost` or `[::1]` (and our port once known); any other name
///   means a DNS-rebinding page is talking to us → 403.
/// - Origin header (sent by browsers on every cross-origin request, every POST and every
///   WebSocket): exactly our own origin → otherwise 403 (another site, or another local port).
/// - Token: `Authorization: Bearer`, `X-P2PChat-Token`, the `token` query parameter, or the
///   cookie the server set after the first visit → otherwise 401.
///
/// A plain value: the middleware only glues it to requests, and tests check it directly.
public struct LocalAccessPolicy: Sendable {
    /// The host names that reach this machine's loopback.
    static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "[::1]"]

    /// The secret every request must carry.
    public let token: AccessToken
    /// The port the server listens on, once known (`nil` before binding, e.g. in router tests).
    let port: BoundPort

    /// A policy for `token`; the port is filled in when the server is bound.
    public init(token: AccessToken, port: BoundPort = BoundPort()) {
        self.token = token
        self.port = port
    }

    /// The cookie that carries the token after the first visit. The port is part of the name:
    /// cookies are shared by all ports of a host, and two nodes on one machine must not
    /// overwrite each other's.
    public var cookieName: String {
        if let port = port.value { return "p2pchat_token_\(port)" }
        return "p2pchat_token"
    }

    /// `nil` when the Host and Origin headers are acceptable, else the 403 to answer.
    func checkOrigin(host: String?, origin: String?) -> ChatWebError? {
        if let host, !isLocal(authority: host) {
            return ChatWebError(.forbidden, "host \(host) is not this machine's loopback; open the URL that `p2pchat up` printed")
        }
        if let origin, !isOwnOrigin(origin) {
            return ChatWebError(.forbidden, "requests from \(origin) are not allowed")
        }
        return nil
    }

    /// Whether `authority` (`host[:port]`) names loopback, and our port when it has one.
    func isLocal(authority: String) -> Bool {
        guard let (host, authorityPort) = Self.split(authority: authority), Self.loopbackHosts.contains(host.lowercased()) else {
            return false
        }
        guard let ours = port.value, let authorityPort else { return true }
        return authorityPort == ours
    }

    /// Whether `origin` is `http://<loopback>:<our port>` (a page we served).
    ///
    /// Also accepted: `ws://<loopback>` with our port or none, which no browser page ever sends
    /// (pages send their own http origin) but some non-browser WebSocket clients do; they still
    /// need the token.
    func isOwnOrigin(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        let isWebSocketClient = lowered.hasPrefix("ws://")
        let prefix = isWebSocketClient ? "ws://" : "http://"
        guard lowered.hasPrefix(prefix) else { return false }
        let authority = String(origin.dropFirst(prefix.count))
        guard !authority.contains("/"), let (host, originPort) = Self.split(authority: authority),
              Self.loopbackHosts.contains(host.lowercased()) else { return false }
        guard let ours = port.value else { return true }
        if isWebSocketClient, originPort == nil { return true }
        return (originPort ?? 80) == ours
    }

    /// Splits `host:port` (with `[v6]:port`); `nil` when malformed.
    static func split(authority: String) -> (host: String, port: Int?)? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[...close])
            let rest = authority[authority.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return parts[0].isEmpty ? nil : (String(parts[0]), nil)
        case 2:
            guard !parts[0].isEmpty, let port = Int(parts[1]), (0...65535).contains(port) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }
}

/// The port a server bound, shared between the code that binds and the code that checks.
public final class BoundPort: Sendable {
    private let port = Mutex<Int?>(nil)

    /// Unknown until `set`, or a fixed port.
    public init(_ value: Int? = nil) { port.withLock { $0 = value } }

    /// The port, once bound.
    public var value: Int? { port.withLock { $0 } }

    /// Records the bound port.
    func set(_ value: Int) { port.withLock { $0 = value } }
}
