import LibP2P

/// The end-to-end content of a message, visible only to the two endpoints (crypto.md §8.5
/// "content (E2E only)"): sender, conversation, sequence, timestamps and body never appear
/// outside the ratchet encryption.
///
/// Encoding: `kind u8 | sender PeerID (len u8) | conversation id (16) | sequence u64 |
/// sent-at u64 ms | message id (16) | has reply-to u8 [| reply-to (16)] | body (len u32)`;
/// the envelope then appends `0x80 00…` padding.
public struct PlainContent: Hashable, Sendable {
    /// Length of conversation and message identifiers.
    public static let identifierLength = 16
    /// Largest body accepted (also bounded by the largest envelope bucket).
    public static let maximumBodyLength = Envelope.bucketSizes.last!
    static let maximumPeerIDLength = 128

    public var kind: ContentKind
    /// The sender; checked against the session's remote peer on open.
    public var sender: PeerID
    /// 16-byte conversation identifier.
    public var conversationID: [UInt8]
    /// Per-conversation sequence number, so gaps reveal dropped messages (crypto.md §8.8).
    public var sequence: UInt64
    /// Sender's clock, milliseconds since 1970.
    public var sentAt: UInt64
    /// 16 random bytes; the receiver de-duplicates on it.
    public var messageID: [UInt8]
    /// The message this one answers, if any.
    public var replyTo: [UInt8]?
    public var body: [UInt8]

    /// Creates content; identifiers must be 16 bytes.
    public init(
        kind: ContentKind, sender: PeerID, conversationID: [UInt8], sequence: UInt64, sentAt: UInt64,
        messageID: [UInt8], replyTo: [UInt8]? = nil, body: [UInt8]
    ) throws {
        guard conversationID.count == Self.identifierLength, messageID.count == Self.identifierLength,
              replyTo.map({ $0.count == Self.identifierLength }) ?? true else {
            throw ChatCryptoError(.malformedInput, "conversation, message and reply-to ids must be \(Self.identifierLength) bytes")
        }
        guard body.count <= Self.maximumBodyLength else {
            throw ChatCryptoError(.messageTooLarge, "body of \(body.count) bytes exceeds \(Self.maximumBodyLength)")
        }
        self.kind = kind
        self.sender = sender
        self.conversationID = conversationID
        self.sequence = sequence
        self.sentAt = sentAt
        self.messageID = messageID
        self.replyTo = replyTo
        self.body = body
    }

    /// A fresh random message id.
    public static func makeMessageID() -> [UInt8] {
        SystemRandomSource().bytes(count: identifierLength)
    }

    func encode(into writer: inout ByteWriter) {
        writer.write(kind.rawValue)
        writer.write(short: sender.bytes)
        writer.write(raw: conversationID)
        writer.write(sequence)
        writer.write(sentAt)
        writer.write(raw: messageID)
        writer.write(replyTo != nil)
        if let replyTo { writer.write(raw: replyTo) }
        writer.write(huge: body)
    }

    /// The unpadded encoding.
    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: 64 + body.count)
        encode(into: &writer)
        return writer.bytes
    }

    /// Parses an unpadded encoding; every byte must be consumed.
    public init(parsing bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "message content")
        kind = ContentKind(rawValue: try reader.readUInt8())
        do {
            sender = try PeerID(bytes: try reader.readShort(maximum: Self.maximumPeerIDLength, "sender"))
        } catch let error as ChatCryptoError {
            throw error
        } catch {
            throw ChatCryptoError(.malformedInput, "sender PeerID does not parse", underlying: error)
        }
        conversationID = try reader.readBytes(count: Self.identifierLength)
        sequence = try reader.readUInt64()
        sentAt = try reader.readUInt64()
        messageID = try reader.readBytes(count: Self.identifierLength)
        replyTo = try reader.readBool() ? try reader.readBytes(count: Self.identifierLength) : nil
        body = try reader.readHuge(maximum: Self.maximumBodyLength, "body")
        try reader.expectEnd()
    }
}
