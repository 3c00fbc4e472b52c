import LibP2P
import Multiformats

/// Everything the recipient keeps about one of its queues: the mailbox, the queue id, the
/// recipient key (read, acknowledge, delete) and the sender key (to hand out in
/// `address`). Store it encrypted with the rest of the recipient's secrets.
///
/// Bytes (`encode()`): `message QueueCredentials { uint32 version = 1; bytes mailbox = 2;
/// bytes queue_id = 3; bytes recipient_key = 4; bytes sender_key = 5 }` (keys as 32-byte seeds).
public struct QueueCredentials: Sendable, CustomStringConvertible {
    /// The format version of `encode()`.
    public static let version: UInt32 = 1

    /// The mailbox, including `/p2p/<peer id>`.
    public var mailbox: Multiaddr
    /// The queue.
    public var queueID: QueueID
    /// The recipient's key.
    public var recipientKey: QueueRecipientKey
    /// The deposit key handed to senders.
    public var senderKey: QueueSenderKey

    public init(mailbox: Multiaddr, queueID: QueueID, recipientKey: QueueRecipientKey, senderKey: QueueSenderKey) throws {
        _ = try QueueAddress.mailboxPeerID(of: mailbox)
        self.mailbox = mailbox
        self.queueID = queueID
        self.recipientKey = recipientKey
        self.senderKey = senderKey
    }

    /// The sender-facing address to give to contacts.
    public var address: QueueAddress {
        // The mailbox address was checked at init.
        try! QueueAddress(mailbox: mailbox, queueID: queueID, senderKey: senderKey)
    }

    /// The mailbox's peer id.
    public var mailboxPeerID: PeerID { address.mailboxPeerID }

    /// Parses `encode()` output.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= QueueAddress.maxEncodedLength else {
            throw MailboxError(.invalidAddress, "queue credentials of \(bytes.count) bytes are too long")
        }
        let fields = try QueueAddress.fields(of: bytes)
        guard fields[1] == nil || fields[1] == Self.version.protobufVarintBytes else {
            throw MailboxError(.invalidAddress, "unsupported queue credentials version")
        }
        guard let mailbox = fields[2], let queue = fields[3], let recipient = fields[4], let sender = fields[5] else {
            throw MailboxError(.invalidAddress, "queue credentials are missing fields")
        }
        do {
            try self.init(
                mailbox: try Multiaddr(bytes: mailbox), queueID: try QueueID(bytes: queue),
                recipientKey: try QueueRecipientKey(rawRepresentation: recipient),
                senderKey: try QueueSenderKey(rawRepresentation: sender))
        } catch let error as MailboxError where error.code == .invalidAddress {
            throw error
        } catch {
            throw MailboxError(.invalidAddress, "queue credentials do not parse", underlying: error)
        }
    }

    /// The bytes for storage. They contain both private keys.
    public func encode() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, UInt64(Self.version))
        writer.writeBytes(field: 2, mailbox.bytes)
        writer.writeBytes(field: 3, queueID.bytes)
        writer.writeBytes(field: 4, recipientKey.rawRepresentation)
        writer.writeBytes(field: 5, senderKey.rawRepresentation)
        return writer.bytes
    }

    /// Names the mailbox and queue; keys are never printed.
    public var description: String { "QueueCredentials(\(mailbox), queue \(queueID))" }
}
