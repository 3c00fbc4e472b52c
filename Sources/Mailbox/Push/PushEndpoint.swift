/// A UnifiedPush-style endpoint: an `http://host[:port]/path` URL the mailbox POSTs a
/// content-free wake-up to. Only plain HTTP is spoken so far (no TLS in the build yet).
struct PushEndpoint: Sendable, Equatable {
    /// The longest accepted URL.
    static let maxLength = MailboxProtocol.maxPushEndpointLength

    var host: String
    var port: Int
    var path: String

    /// Parses and validates `url`; private and loopback hosts only if `allowsPrivate`.
    init(parsing url: String, allowsPrivate: Bool) throws {
        guard url.utf8.count <= Self.maxLength else {
            throw MailboxError(.invalidPushEndpoint, "push endpoint longer than \(Self.maxLength) bytes")
        }
        guard url.hasPrefix("http://") else {
            throw MailboxError(.invalidPushEndpoint, "push endpoint must be an http:// URL (https is not supported yet)")
        }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "#" })
        if path.isEmpty { path = "/" }
        if path.first == "?" { path = "/" + path }
        guard !authority.contains("@"), !authority.isEmpty,
              path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw MailboxError(.invalidPushEndpoint, "push endpoint URL is not a plain http://host[:port]/path")
        }
        var host: Substring
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else {
                throw MailboxError(.invalidPushEndpoint, "unterminated IPv6 literal in push endpoint")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.first == ":" { portText = after.dropFirst() } else if !after.isEmpty {
                throw MailboxError(.invalidPushEndpoint, "bad authority in push endpoint")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw MailboxError(.invalidPushEndpoint, "bad port in push endpoint")
            }
            port = value
        } else {
            port = 80
        }
        guard !host.isEmpty, host.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || ".-:".unicodeScalars.contains($0) }) else {
            throw MailboxError(.invalidPushEndpoint, "bad host in push endpoint")
        }
        self.host = String(host).lowercased()
        self.port = port
        self.path = path
        if !allowsPrivate && isPrivateHost {
            throw MailboxError(.invalidPushEndpoint, "push endpoint points at a loopback or private address")
        }
    }

    /// Whether the host is a loopback, link-local or private literal (or `localhost`).
    /// DNS names are not resolved here.
    var isPrivateHost: Bool {
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        if host.contains(":") {
            return host == "::1" || host == "::" || host.hasPrefix("fe80:") || host.hasPrefix("fc") || host.hasPrefix("fd")
                || host.hasPrefix("::ffff:")
        }
        let octets = host.split(separator: ".").compactMap { UInt8($0) }
        guard octets.count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (127, _), (10, _), (0, _), (169, 254), (192, 168): return true
        case (172, 16...31), (100, 64...127): return true
        default: return false
        }
    }
}
