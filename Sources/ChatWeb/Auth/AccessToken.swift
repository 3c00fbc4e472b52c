import Foundation

/// The per-home secret that every web request must carry (ARCHITECTURE.md Surfaces: "a per-home
/// access token"), so other local users and other pages cannot read the chat.
///
/// Stored in `<home>/web-token` with mode 0600 and reused across restarts, so an open tab keeps
/// working after `p2pchat up` restarts. 32 random bytes, hex-encoded.
public struct AccessToken: Hashable, Sendable, CustomStringConvertible {
    /// The file holding the token inside the home.
    public static let fileName = "web-token"
    /// The token's length in characters (32 bytes in hex).
    public static let length = 64

    /// The token text.
    public let value: String

    /// Wraps a token text; `nil` unless it is 64 lower-case hex digits.
    public init?(_ value: String) {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.utf8.count == Self.length, trimmed.utf8.allSatisfy({ Self.isHexDigit($0) }) else { return nil }
        self.value = trimmed
    }

    /// A fresh random token.
    public static func random() -> AccessToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return AccessToken(unchecked: bytes.map { String(format: "%02x", $0) }.joined())
    }

    private init(unchecked value: String) { self.value = value }

    /// Redacted: a token never appears in logs by accident.
    public var description: String { "AccessToken(…)" }

    /// Whether `candidate` is this token, compared in constant time.
    public func matches(_ candidate: some StringProtocol) -> Bool {
        let expected = Array(value.utf8)
        let given = Array(candidate.utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= expected[index] ^ given[index] }
        return difference == 0
    }

    /// The home's token: read from `<home>/web-token`, or created there (mode 0600) on first use.
    /// An existing file with a looser mode is tightened.
    public static func loadOrCreate(home: URL) throws -> AccessToken {
        let url = home.appendingPathComponent(fileName)
        if let data = FileManager.default.contents(atPath: url.path) {
            guard let token = AccessToken(String(decoding: data, as: UTF8.self)) else {
                throw ChatWebError(.startup, "\(url.path) does not hold a valid token; delete it to make a new one")
            }
            _ = chmod(url.path, 0o600)
            return token
        }
        let token = random()
        let temporary = home.appendingPathComponent(fileName + ".tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data((token.value + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ChatWebError(.startup, "cannot write \(temporary.path); is the home writable?")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw ChatWebError(.startup, "cannot store \(url.path): \(String(cString: strerror(errno)))")
        }
        return token
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
