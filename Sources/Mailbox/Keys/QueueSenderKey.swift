/// The deposit key for one queue: whoever holds it may deposit envelopes, and nothing else.
/// The recipient hands it to senders inside a `QueueAddress`.
/// Ed25519 (RFC 8032); a fresh key per queue, so keys do not link queues.
public struct QueueSenderKey: Sendable, CustomStringConvertible {
    let signingKey: QueueSigningKey

    /// A fresh random key.
    public init() {
        signingKey = QueueSigningKey()
    }

    /// Restores a key from its 32-byte seed (`rawRepresentation`).
    public init(rawRepresentation: [UInt8]) throws {
        signingKey = try QueueSigningKey(rawRepresentation: rawRepresentation, role: "sender")
    }

    /// The 32-byte private seed, for storing the key. Treat it as secret.
    public var rawRepresentation: [UInt8] { signingKey.rawRepresentation }

    /// The 32-byte Ed25519 public key the mailbox registers.
    public var publicKeyBytes: [UInt8] { signingKey.publicKeyBytes }

    /// Signs `message`.
    func sign(_ message: [UInt8]) throws -> [UInt8] { try signingKey.sign(message) }

    /// Names the key by its public half; the private key is never printed.
    public var description: String { "QueueSenderKey(public: \(publicKeyBytes.prefix(6).map { String($0, radix: 16) }.joined())…)" }
}
