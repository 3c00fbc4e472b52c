import Crypto

/// The Noise `XX` handshake state machine with DH = 25519 (Noise spec rev 34 §5.3, §7.5):
///
///     -> e
///     <- e, ee, s, es
///     -> s, se
///
/// libp2p's `/noise` runs this with ``NoiseCipherSuite/libp2p`` and an empty prologue (libp2p
/// noise spec, "Handshake"). This type knows nothing of libp2p identities: the caller puts the
/// signed handshake payload into messages 2 and 3 and checks the remote payload against
/// ``remoteStaticKey``.
public struct NoiseXXHandshake: Sendable {
    /// Which side of the handshake this is (Noise spec §5.3 `initiator`).
    public enum Role: Hashable, Sendable {
        /// Sends the first message.
        case initiator
        /// Receives the first message.
        case responder
    }

    /// The largest Noise message, handshake or transport (Noise spec §3).
    public static let maxMessageLength = 65535
    /// DHLEN for Curve25519 (Noise spec §12.1).
    public static let dhLength = 32

    /// The three messages of the XX pattern.
    private enum Message: Int, Sendable {
        case first = 1, second, third

        /// The role that writes this message.
        var writer: Role { self == .second ? .responder : .initiator }
        /// The message after this one, or `nil` after the last.
        var next: Message? { Message(rawValue: rawValue + 1) }
    }

    /// Where the handshake is.
    private enum State: Sendable, CustomStringConvertible {
        /// It is our turn to write `Message`.
        case writing(Message)
        /// We wait for the peer's `Message`.
        case reading(Message)
        /// All three messages are done; ``split()`` has not been called yet.
        case complete
        /// ``split()`` handed out the transport cipher states.
        case split
        /// A message failed; the handshake cannot continue.
        case failed

        var description: String {
            switch self {
            case .writing(let message): "waiting to write message \(message.rawValue)"
            case .reading(let message): "waiting to read message \(message.rawValue)"
            case .complete: "complete"
            case .split: "complete and split"
            case .failed: "failed"
            }
        }
    }

    /// Whether this side is the initiator or the responder.
    public let role: Role
    /// The cipher and hash functions.
    public let suite: NoiseCipherSuite
    private var state: State
    private var symmetricState: NoiseSymmetricState
    private let staticKey: Curve25519.KeyAgreement.PrivateKey
    private let ephemeralKey: Curve25519.KeyAgreement.PrivateKey
    private var remoteEphemeralKey: Curve25519.KeyAgreement.PublicKey?
    /// The peer's static public key `rs`: set after message 2 for the initiator and after
    /// message 3 for the responder (Noise spec §5.3).
    public private(set) var remoteStaticKey: Curve25519.KeyAgreement.PublicKey?

    /// Initialize(handshake_pattern = XX, initiator, prologue, s, e) (Noise spec §5.3).
    ///
    /// - Parameters:
    ///   - role: initiator or responder.
    ///   - staticKey: our static X25519 key `s` (libp2p: separate from the identity key).
    ///   - ephemeralKey: `e`; tests inject it, otherwise a fresh random key.
    ///   - prologue: bytes both sides must agree on (Noise spec §6); libp2p uses none.
    ///   - suite: cipher and hash functions; libp2p uses ChaChaPoly and SHA256.
    public init(
        role: Role,
        staticKey: Curve25519.KeyAgreement.PrivateKey,
        ephemeralKey: Curve25519.KeyAgreement.PrivateKey? = nil,
        prologue: [UInt8] = [],
        suite: NoiseCipherSuite = .libp2p
    ) {
        self.role = role
        self.suite = suite
        self.staticKey = staticKey
        self.ephemeralKey = ephemeralKey ?? Curve25519.KeyAgreement.PrivateKey()
        self.symmetricState = NoiseSymmetricState(protocolName: suite.protocolName(pattern: "XX"), suite: suite)
        self.symmetricState.mixHash(prologue)
        self.state = role == .initiator ? .writing(.first) : .reading(.first)
    }

    /// Whether all three messages have been written or read.
    public var isComplete: Bool {
        switch state {
        case .complete, .split: true
        case .writing, .reading, .failed: false
        }
    }

    /// Whether it is our turn to call ``writeMessage(payload:)``.
    public var isWaitingToWrite: Bool {
        if case .writing = state { return true }
        return false
    }

    /// The handshake hash `h` (Noise spec §5.2 GetHandshakeHash); final once ``isComplete``.
    public var handshakeHash: [UInt8] { symmetricState.handshakeHash }

    /// Our static public key.
    public var localStaticKey: Curve25519.KeyAgreement.PublicKey { staticKey.publicKey }

    /// WriteMessage(payload, message_buffer) (Noise spec §5.3): the next handshake message,
    /// carrying `payload` (encrypted once a key is mixed in, i.e. in messages 2 and 3).
    ///
    /// Throws ``LibP2PError/Code/handshakeFailed`` when it is not our turn or the message would
    /// exceed ``maxMessageLength``.
    public mutating func writeMessage(payload: [UInt8]) throws -> [UInt8] {
        guard case .writing(let message) = state else {
            throw LibP2PError(.handshakeFailed, "Noise XX: writeMessage called out of turn (\(state))")
        }
        guard payload.count <= Self.maxMessageLength - Self.overhead(of: message) else {
            throw LibP2PError(.handshakeFailed, "Noise XX: payload of \(payload.count) bytes exceeds the 65535-byte message limit")
        }
        do {
            var output: [UInt8] = []
            switch message {
            case .first:  // -> e
                writeEphemeral(into: &output)
            case .second:  // <- e, ee, s, es
                writeEphemeral(into: &output)
                try mixDH(ephemeralKey, remoteEphemeralKey)
                output += try symmetricState.encryptAndHash(Array(staticKey.publicKey.rawRepresentation))
                try mixDH(staticKey, remoteEphemeralKey)
            case .third:  // -> s, se
                output += try symmetricState.encryptAndHash(Array(staticKey.publicKey.rawRepresentation))
                try mixDH(staticKey, remoteEphemeralKey)
            }
            output += try symmetricState.encryptAndHash(payload)
            advance(after: message)
            return output
        } catch {
            state = .failed
            throw Self.handshakeError("writing message \(message.rawValue)", error)
        }
    }

    /// ReadMessage(message, payload_buffer) (Noise spec §5.3): processes the peer's next
    /// handshake message and returns its decrypted payload.
    ///
    /// Throws ``LibP2PError/Code/handshakeFailed`` when it is not the peer's turn, the message is
    /// truncated or too long, or a key does not agree; ``LibP2PError/Code/decryptionFailed``
    /// when a ciphertext fails authentication. Any failure ends the handshake.
    public mutating func readMessage(_ message: [UInt8]) throws -> [UInt8] {
        guard case .reading(let expected) = state else {
            throw LibP2PError(.handshakeFailed, "Noise XX: readMessage called out of turn (\(state))")
        }
        guard message.count <= Self.maxMessageLength else {
            state = .failed
            throw LibP2PError(.handshakeFailed, "Noise XX: message of \(message.count) bytes exceeds 65535")
        }
        guard message.count >= Self.overhead(of: expected) else {
            state = .failed
            throw LibP2PError(.handshakeFailed, "Noise XX: message \(expected.rawValue) truncated to \(message.count) bytes")
        }
        do {
            var rest = message[...]
            switch expected {
            case .first:  // -> e
                try readEphemeral(from: &rest)
            case .second:  // <- e, ee, s, es
                try readEphemeral(from: &rest)
                try mixDH(ephemeralKey, remoteEphemeralKey)
                try readStatic(from: &rest)
                try mixDH(ephemeralKey, remoteStaticKey)
            case .third:  // -> s, se
                try readStatic(from: &rest)
                try mixDH(ephemeralKey, remoteStaticKey)
            }
            let payload = try symmetricState.decryptAndHash(Array(rest))
            advance(after: expected)
            return payload
        } catch {
            state = .failed
            throw Self.handshakeError("reading message \(expected.rawValue)", error)
        }
    }

    /// Split() (Noise spec §5.2, §5.3): the transport cipher states once the handshake is
    /// complete. The initiator sends with the first HKDF output, the responder with the second.
    ///
    /// May be called once: handing the same keys out twice would risk nonce reuse.
    public mutating func split() throws -> (send: NoiseCipherState, receive: NoiseCipherState) {
        guard case .complete = state else {
            throw LibP2PError(.handshakeFailed, "Noise XX: split called before completion or twice (\(state))")
        }
        state = .split
        let (first, second) = symmetricState.split()
        switch role {
        case .initiator: return (send: first, receive: second)
        case .responder: return (send: second, receive: first)
        }
    }

    // MARK: - Tokens

    /// The minimum length of `message` with an empty payload (Noise spec §7.5 message sizes).
    private static func overhead(of message: Message) -> Int {
        let encryptedStatic = dhLength + NoiseCipherState.tagLength
        switch message {
        case .first: return dhLength
        case .second: return dhLength + encryptedStatic + NoiseCipherState.tagLength
        case .third: return encryptedStatic + NoiseCipherState.tagLength
        }
    }

    private mutating func advance(after message: Message) {
        guard let next = message.next else {
            state = .complete
            return
        }
        state = next.writer == role ? .writing(next) : .reading(next)
    }

    /// Token `e` when writing: append `e.public_key` and MixHash it (Noise spec §5.3).
    private mutating func writeEphemeral(into output: inout [UInt8]) {
        let publicKey = Array(ephemeralKey.publicKey.rawRepresentation)
        output += publicKey
        symmetricState.mixHash(publicKey)
    }

    /// Token `e` when reading: `re` = the next DHLEN bytes, MixHash them (Noise spec §5.3).
    private mutating func readEphemeral(from message: inout ArraySlice<UInt8>) throws {
        let bytes = Array(message.prefix(Self.dhLength))
        message = message.dropFirst(Self.dhLength)
        remoteEphemeralKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
        symmetricState.mixHash(bytes)
    }

    /// Token `s` when reading: `rs` = DecryptAndHash(next DHLEN + 16 bytes) (Noise spec §5.3).
    private mutating func readStatic(from message: inout ArraySlice<UInt8>) throws {
        let length = Self.dhLength + (symmetricState.cipherState.hasKey ? NoiseCipherState.tagLength : 0)
        let ciphertext = Array(message.prefix(length))
        message = message.dropFirst(length)
        let bytes = try symmetricState.decryptAndHash(ciphertext)
        remoteStaticKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes)
    }

    /// Tokens `ee`, `es`, `se`: MixKey(DH(local, remote)) (Noise spec §5.3, §12.1).
    private mutating func mixDH(
        _ local: Curve25519.KeyAgreement.PrivateKey,
        _ remote: Curve25519.KeyAgreement.PublicKey?
    ) throws {
        guard let remote else { preconditionFailure("Noise XX: DH before the remote key is known") }
        let shared = try local.sharedSecretFromKeyAgreement(with: remote)
        symmetricState.mixKey(shared.withUnsafeBytes { Array($0) })
    }

    /// Wraps a failure as a ``LibP2PError``, keeping `.decryptionFailed` for bad tags.
    private static func handshakeError(_ context: String, _ error: any Error) -> LibP2PError {
        if let error = error as? LibP2PError {
            return LibP2PError(error.code, "Noise XX: \(context): \(error.message)", underlying: error.underlying)
        }
        return LibP2PError(.handshakeFailed, "Noise XX: \(context) failed", underlying: error)
    }
}
