import LibP2P
import Multiformats

/// The sender-facing part of a queue: where to deposit (the mailbox's multiaddr, ending in
/// `/p2p/<mailbox peer id>`), which queue, and the deposit key. The recipient puts it in an
/// invite or sends it inside the encrypted session; it grants depositing and nothing else.
///
/// Bytes (`encode()`): `message QueueAddress { uint32 version = 1; bytes mailbox = 2
/// (binary multiaddr); bytes queue_id = 3; bytes sender_key = 4 (32-byte Ed25519 seed) }`.
public struct QueueAddress: Sendable, CustomStringConvertible {
    /// The format version of `encode()`.
    public static let version: UInt32 = 1
    /// The largest encoded address accepted.
    public static let maxEncodedLength = 2048

    /// The mailbox, including `/p2p/<peer id>`.
    public var mailbox: Multiaddr
    /// The queue.
    public var queueID: QueueID
    /// The deposit key.
    public var senderKey: QueueSenderKey

    /// Makes an address; `mailbox` must end in `/p2p/<peer id>`.
    public init(mailbox: Multiaddr, queueID: QueueID, senderKey: QueueSenderKey) throws {
        _ = try Self.mailboxPeerID(of: mailbox)
        self.mailbox = mailbox
        self.queueID = queueID
        self.senderKey = senderKey
    }

    /// The mailbox's peer id.
    public var mailboxPeerID: PeerID {
        // Checked at init.
        try! Self.mailboxPeerID(of: mailbox)
    }

    static func mailboxPeerID(of address: Multiaddr) throws -> PeerID {
        guard let multihash = address.peerIDMultihash, let peerID = try? PeerID(multihash: multihash) else {
            throw MailboxError(.invalidAddress, "mailbox address must end in /p2p/<peer id>: \(address)")
        }
        return peerID
    }

    /// Parses `encode()` output.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxEncodedLength else {
            throw MailboxError(.invalidAddress, "queue address of \(bytes.count) bytes is too long")
        }
        var fields = try QueueAddress.fields(of: bytes)
        guard fields[1] == nil || fields[1] == Self.version.protobufVarintBytes else {
            throw MailboxError(.invalidAddress, "unsupported queue address version")
        }
        guard let mailbox = fields.removeValue(forKey: 2), let queue = fields[3], let key = fields[4] else {
            throw MailboxError(.invalidAddress, "queue address is missing fields")
        }
        do {
            try self.init(
                mailbox: try Multiaddr(bytes: mailbox), queueID: try QueueID(bytes: queue),
                senderKey: try QueueSenderKey(rawRepresentation: key))
        } catch let error as MailboxError where error.code == .invalidAddress {
            throw error
        } catch {
            throw MailboxError(.invalidAddress, "queue address does not parse", underlying: error)
        }
    }

    /// The bytes for an invite. They contain the deposit key: share them only with senders.
    public func encode() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, UInt64(Self.version))
        writer.writeBytes(field: 2, mailbox.bytes)
        writer.writeBytes(field: 3, queueID.bytes)
        writer.writeBytes(field: 4, senderKey.rawRepresentation)
        return writer.bytes
    }

    /// Names the mailbox and queue; the key is never printed.
    public var description: String { "QueueAddress(\(mailbox), queue \(queueID))" }

    /// Reads fields 1–5 of a small protobuf (varints as their encoded bytes).
    static func fields(of bytes: [UInt8]) throws -> [Int: [UInt8]] {
        var reader = ProtobufReader(bytes)
        var fields: [Int: [UInt8]] = [:]
        do {
            while let field = try reader.next() {
                switch field.value {
                case .bytes(let value): fields[field.number] = value
                case .varint(let value): fields[field.number] = UInt32(truncatingIfNeeded: value).protobufVarintBytes
                default: continue
                }
            }
        } catch {
            throw MailboxError(.invalidAddress, "does not parse", underlying: error)
        }
        return fields
    }
}

extension UInt32 {
    var protobufVarintBytes: [UInt8] {
        var writer = ProtobufWriter()
        writer.appendVarint(UInt64(self))
        return writer.bytes
    }
}
