import LibP2P

/// An end-to-end session with one peer: the Double Ratchet state plus what binds it to both
/// identities (crypto.md §8.3–8.5). A value type; persist it with `serialized()` after every
/// `seal`/`open` and restore it with `init(serialized:)`.
///
/// The initiator's envelopes are prekey messages until the first reply arrives (X3DH §3.3), so
/// the responder can set up the session from whichever arrives first.
public struct Session: Sendable {
    /// Which side started the session.
    public enum Role: UInt8, Sendable {
        case initiator = 1
        case responder = 2
    }

    /// Current serialization version.
    public static let stateVersion: UInt8 = 1
    /// Largest serialized session accepted.
    public static let maximumSerializedSize = 512 * 1024
    static let maximumPeerIDLength = 128
    static let maximumAssociatedDataLength = 512
    static let maximumPendingLength = 8192

    /// The negotiated suite.
    public var suite: Ciphersuite { ratchet.suite }
    public let role: Role
    public let localPeerID: PeerID
    public let remotePeerID: PeerID
    /// The initiator's ephemeral key `EK_A`, which identifies the session in prekey messages.
    public let baseKey: DHPublicKey
    /// `PeerId_A‖IK_dh_A‖PeerId_B‖IK_dh_B` (X3DH §3.3).
    let associatedData: [UInt8]
    var ratchet: RatchetState
    /// The initiator's prekey-message fields (with an empty ratchet message) and the responder's
    /// identity DH key to seal them to; cleared by the first reply.
    var pendingPreKey: (message: PreKeyMessage, recipient: DHPublicKey)?

    init(
        role: Role, localPeerID: PeerID, remotePeerID: PeerID, baseKey: DHPublicKey, associatedData: [UInt8],
        ratchet: RatchetState, pendingPreKey: (message: PreKeyMessage, recipient: DHPublicKey)?
    ) {
        self.role = role
        self.localPeerID = localPeerID
        self.remotePeerID = remotePeerID
        self.baseKey = baseKey
        self.associatedData = associatedData
        self.ratchet = ratchet
        self.pendingPreKey = pendingPreKey
    }

    /// Whether outgoing envelopes are still prekey messages (no reply received yet).
    public var isAwaitingFirstReply: Bool { pendingPreKey != nil }

    // MARK: Seal

    /// Encrypts `content` into a padded envelope (Double Ratchet §4 `RatchetEncryptHE`).
    ///
    /// `now` (milliseconds since 1970) expires old skipped keys. Throws `.messageTooLarge` when
    /// the content does not fit the largest bucket, `.invalidState` on a responder session that
    /// has not received anything yet.
    public mutating func seal(content: PlainContent, now: UInt64) throws -> Envelope {
        var random = SystemRandomSource()
        return try seal(content: content, now: now, random: &random)
    }

    mutating func seal(content: PlainContent, now: UInt64, random: inout some RandomSource) throws -> Envelope {
        ratchet.expireSkippedKeys(now: now)
        let encoded = content.encoded
        let kind: Envelope.Kind = pendingPreKey == nil ? .ratchetMessage : .preKeyMessage
        var overhead = Envelope.headerLength + RatchetMessage.overhead(curve: suite.curve)
        if let pending = pendingPreKey { overhead += pending.message.sealingOverhead }
        let paddedLength = try Envelope.paddedContentLength(contentLength: encoded.count, overhead: overhead)
        var next = ratchet
        let ratchetMessage = try next.encrypt(
            Padding.pad(encoded, to: paddedLength), associatedData: associatedData + [Envelope.version, kind.rawValue], random: &random)
        let ciphertext: [UInt8]
        if let pending = pendingPreKey {
            ciphertext = try pending.message.with(ratchetMessage: ratchetMessage)
                .sealed(to: pending.recipient, associatedData: [Envelope.version, kind.rawValue])
        } else {
            ciphertext = ratchetMessage
        }
        precondition(ciphertext.count + Envelope.headerLength == paddedLength + overhead, "envelope size arithmetic")
        ratchet = next
        return Envelope(kind: kind, ciphertext: ciphertext)
    }

    // MARK: Open

    /// Decrypts a ratchet-message envelope of this session (Double Ratchet §4 `RatchetDecryptHE`).
    ///
    /// Transactional: on error the session is unchanged. Errors: `.headerDecryptionFailed` (not
    /// this session, or keys long gone), `.replayedMessage`, `.tooManySkippedMessages`,
    /// `.decryptionFailed` (tampered), `.peerIDMismatch` (content names another sender).
    /// Prekey-message envelopes go through `SessionResponder`.
    public mutating func open(envelope: Envelope, now: UInt64) throws -> PlainContent {
        guard envelope.kind == .ratchetMessage else {
            throw ChatCryptoError(.invalidState, "prekey envelopes are opened with SessionResponder")
        }
        var random = SystemRandomSource()
        return try open(ratchetMessage: envelope.ciphertext, kind: .ratchetMessage, now: now, random: &random)
    }

    /// Decrypts a repeated prekey message for this session (same `baseKey`): the initiator sends
    /// prekey messages until it sees a reply, and the responder already has the session.
    public mutating func open(preKeyMessage: PreKeyMessage, now: UInt64) throws -> PlainContent {
        guard role == .responder, preKeyMessage.baseKey == baseKey, preKeyMessage.senderPeerID == remotePeerID else {
            throw ChatCryptoError(.invalidState, "prekey message belongs to another session")
        }
        var random = SystemRandomSource()
        return try open(ratchetMessage: preKeyMessage.ratchetMessage, kind: .preKeyMessage, now: now, random: &random)
    }

    mutating func open(ratchetMessage: [UInt8], kind: Envelope.Kind, now: UInt64, random: inout some RandomSource) throws -> PlainContent {
        var next = ratchet
        let padded = try next.decrypt(
            ratchetMessage, associatedData: associatedData + [Envelope.version, kind.rawValue], now: now, random: &random)
        let content = try PlainContent(parsing: try Padding.unpad(padded))
        guard content.sender == remotePeerID else {
            throw ChatCryptoError(.peerIDMismatch, "content claims sender \(content.sender), session is with \(remotePeerID)")
        }
        ratchet = next
        if kind == .ratchetMessage { pendingPreKey = nil }
        return content
    }

    // MARK: Serialization

    /// Versioned binary form for the session store. Holds ratchet private keys: store it
    /// encrypted, and never restore an old copy to continue a conversation (crypto.md §8.4).
    public func serialized() -> [UInt8] {
        var writer = ByteWriter(capacity: 512)
        writer.write(Self.stateVersion)
        writer.write(role.rawValue)
        writer.write(short: localPeerID.bytes)
        writer.write(short: remotePeerID.bytes)
        writer.write(short: baseKey.bytes)
        writer.write(long: associatedData)
        writer.write(pendingPreKey != nil)
        if let pending = pendingPreKey {
            writer.write(long: pending.message.encoded)
            writer.write(short: pending.recipient.bytes)
        }
        ratchet.encode(into: &writer)
        return writer.bytes
    }

    /// Restores a session from `serialized()`.
    public init(serialized bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumSerializedSize else {
            throw ChatCryptoError(.lengthExceeded, "session state of \(bytes.count) bytes exceeds \(Self.maximumSerializedSize)")
        }
        var reader = ByteReader(bytes, context: "session state")
        let version = try reader.readUInt8()
        guard version == Self.stateVersion else {
            throw ChatCryptoError(.unsupportedVersion, "session state version \(version); expected \(Self.stateVersion)")
        }
        guard let role = Role(rawValue: try reader.readUInt8()) else {
            throw ChatCryptoError(.malformedInput, "unknown session role")
        }
        self.role = role
        do {
            localPeerID = try PeerID(bytes: try reader.readShort(maximum: Self.maximumPeerIDLength, "local peer id"))
            remotePeerID = try PeerID(bytes: try reader.readShort(maximum: Self.maximumPeerIDLength, "remote peer id"))
        } catch let error as ChatCryptoError {
            throw error
        } catch {
            throw ChatCryptoError(.malformedInput, "session peer id does not parse", underlying: error)
        }
        let baseKeyBytes = try reader.readShort(maximum: 33, "base key")
        associatedData = try reader.readLong(maximum: Self.maximumAssociatedDataLength, "associated data")
        var pending: (PreKeyMessage, [UInt8])?
        if try reader.readBool() {
            let message = try PreKeyMessage(parsing: try reader.readLong(maximum: Self.maximumPendingLength, "pending prekey message"))
            pending = (message, try reader.readShort(maximum: 33, "recipient key"))
        }
        ratchet = try RatchetState(parsing: &reader)
        try reader.expectEnd()
        let curve = ratchet.suite.curve
        baseKey = try DHPublicKey(curve: curve, bytes: baseKeyBytes)
        if let (message, recipient) = pending {
            pendingPreKey = (message, try DHPublicKey(curve: curve, bytes: recipient))
        }
    }
}
