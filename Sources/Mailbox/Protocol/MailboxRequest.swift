import LibP2P
import Multiformats

/// One signed request (`/p2pchat/mailbox/1.0.0`).
///
/// ```
/// message Request {            // the framed message
///   uint32 version   = 1;      // MailboxProtocol.version
///   bytes  body      = 2;      // an encoded RequestBody, signed as bytes
///   bytes  signature = 3;      // Ed25519 over signingPrefix ‖ uvarint(len) ‖ mailboxPeerID ‖ body
/// }
/// message RequestBody {
///   uint32 kind          = 1;  // MailboxRequest.Kind
///   bytes  queue_id      = 2;  // 24 bytes; absent for createQueue
///   uint64 timestamp_ms  = 3;  // client wall clock, checked against the replay window
///   bytes  nonce         = 4;  // 16 random bytes, remembered for the replay window
///   bytes  recipient_key = 5;  // createQueue: Ed25519 public key
///   bytes  sender_key    = 6;  // createQueue: Ed25519 public key
///   bytes  envelope      = 7;  // deposit
///   uint64 ttl_seconds   = 8;  // deposit; 0 = the mailbox default
///   uint64 after_seq     = 9;  // list
///   uint32 limit         = 10; // list
///   repeated bytes cids  = 11; // fetch, acknowledge (binary CIDs)
///   string push_url      = 12; // setPushEndpoint; absent = remove
///   repeated Block blocks = 13; // depositBlocks (version 2): Block { bytes cid = 1; bytes data = 2; }
/// }
/// ```
/// Version 2 (`MailboxProtocol.blocksVersion`) adds the block kinds: `depositBlocks` stores
/// attachment blocks (any CID with a sha2-256 multihash, checked by the mailbox) for the
/// recipient, counted against the queue's byte quota, with the same TTL rules as envelopes;
/// `fetchBlocks` and `acknowledgeBlocks` read and delete them by CID (field 11).
/// createQueue is signed by the new recipient key, deposit and depositBlocks by the sender key,
/// everything else by the recipient key. The mailbox's own peer id is part of the signed bytes, so a request
/// cannot be replayed at another mailbox.
public struct MailboxRequest: Sendable, Equatable {
    /// The request kinds.
    public enum Kind: UInt32, Sendable {
        case createQueue = 1
        case deposit = 2
        case list = 3
        case fetch = 4
        case acknowledge = 5
        case subscribe = 6
        case deleteQueue = 7
        case status = 8
        case setPushEndpoint = 9
        case depositBlocks = 10
        case fetchBlocks = 11
        case acknowledgeBlocks = 12

        /// The lowest request version that may carry this kind.
        public var minimumVersion: UInt32 {
            switch self {
            case .depositBlocks, .fetchBlocks, .acknowledgeBlocks: MailboxProtocol.blocksVersion
            default: MailboxProtocol.version
            }
        }
    }

    /// What is asked, with its arguments.
    public enum Operation: Sendable, Equatable {
        /// Creates a queue; the mailbox answers with its random id.
        case createQueue(recipientKey: [UInt8], senderKey: [UInt8])
        /// Stores an envelope; `ttlSeconds` 0 means the mailbox default.
        case deposit(envelope: [UInt8], ttlSeconds: UInt64)
        /// Lists stored envelopes after a sequence number, in deposit order.
        case list(afterSequence: UInt64, limit: UInt32)
        /// Returns the bytes of these envelopes.
        case fetch([CID])
        /// Deletes these envelopes.
        case acknowledge([CID])
        /// Turns the stream into a live feed of deposit notifications.
        case subscribe
        /// Deletes the queue and everything in it.
        case deleteQueue
        /// Counts and quotas of the queue.
        case status
        /// Registers (or, with `nil`, removes) a UnifiedPush-style endpoint.
        case setPushEndpoint(String?)
        /// Stores attachment blocks for the recipient; `ttlSeconds` 0 means the mailbox default.
        case depositBlocks([MailboxResponse.Block], ttlSeconds: UInt64)
        /// Returns the bytes of these blocks.
        case fetchBlocks([CID])
        /// Deletes these blocks.
        case acknowledgeBlocks([CID])

        /// The request kind.
        public var kind: Kind {
            switch self {
            case .createQueue: .createQueue
            case .deposit: .deposit
            case .list: .list
            case .fetch: .fetch
            case .acknowledge: .acknowledge
            case .subscribe: .subscribe
            case .deleteQueue: .deleteQueue
            case .status: .status
            case .setPushEndpoint: .setPushEndpoint
            case .depositBlocks: .depositBlocks
            case .fetchBlocks: .fetchBlocks
            case .acknowledgeBlocks: .acknowledgeBlocks
            }
        }
    }

    /// The signed part of a request.
    public struct Body: Sendable, Equatable {
        /// The operation.
        public var operation: Operation
        /// The queue; `nil` only for createQueue.
        public var queueID: QueueID?
        /// Client time, milliseconds since the Unix epoch.
        public var timestamp: UInt64
        /// Random bytes that make the request unique.
        public var nonce: [UInt8]

        public init(operation: Operation, queueID: QueueID?, timestamp: UInt64, nonce: [UInt8]) {
            self.operation = operation
            self.queueID = queueID
            self.timestamp = timestamp
            self.nonce = nonce
        }

        /// Parses and validates every field against its named maximum.
        public init(parsing bytes: [UInt8]) throws {
            var kind: UInt32?
            var queueID: QueueID?
            var timestamp: UInt64?
            var nonce: [UInt8]?
            var recipientKey: [UInt8]?
            var senderKey: [UInt8]?
            var envelope: [UInt8]?
            var ttl: UInt64 = 0
            var afterSequence: UInt64 = 0
            var limit: UInt32 = 0
            var cids: [CID] = []
            var pushURL: String?
            var blocks: [MailboxResponse.Block] = []
            var blockBytes = 0
            var reader = ProtobufReader(bytes)
            do {
                while let field = try reader.next() {
                    switch field.number {
                    case 1: kind = UInt32(truncatingIfNeeded: try field.varint())
                    case 2: queueID = try QueueID(bytes: try field.bytes())
                    case 3: timestamp = try field.varint()
                    case 4: nonce = try field.bytes()
                    case 5: recipientKey = try field.bytes()
                    case 6: senderKey = try field.bytes()
                    case 7: envelope = try field.bytes()
                    case 8: ttl = try field.varint()
                    case 9: afterSequence = try field.varint()
                    case 10: limit = UInt32(clamping: try field.varint())
                    case 11:
                        guard cids.count < MailboxProtocol.maxCIDsPerRequest else {
                            throw MailboxError(.invalidRequest, "more than \(MailboxProtocol.maxCIDsPerRequest) CIDs in one request")
                        }
                        let raw = try field.bytes()
                        guard raw.count <= MailboxProtocol.maxCIDLength else {
                            throw MailboxError(.malformed, "CID of \(raw.count) bytes")
                        }
                        cids.append(try CID(bytes: raw))
                    case 12:
                        let url = try field.string()
                        guard url.utf8.count <= MailboxProtocol.maxPushEndpointLength else {
                            throw MailboxError(.invalidPushEndpoint, "push endpoint longer than \(MailboxProtocol.maxPushEndpointLength) bytes")
                        }
                        pushURL = url
                    case 13:
                        guard blocks.count < MailboxProtocol.maxBlocksPerRequest else {
                            throw MailboxError(.invalidRequest, "more than \(MailboxProtocol.maxBlocksPerRequest) blocks in one request")
                        }
                        let block = try Self.parseBlock(try field.bytes())
                        blockBytes += block.data.count
                        guard blockBytes <= MailboxProtocol.maxBlockBatchLength else {
                            throw MailboxError(.invalidRequest, "more than \(MailboxProtocol.maxBlockBatchLength) block bytes in one request")
                        }
                        blocks.append(block)
                    default: continue
                    }
                }
            } catch let error as MailboxError {
                throw error
            } catch {
                throw MailboxError(.malformed, "request body does not parse", underlying: error)
            }
            guard let kind, let parsedKind = Kind(rawValue: kind) else {
                throw MailboxError(.malformed, "missing or unknown request kind")
            }
            guard let timestamp, let nonce, nonce.count == MailboxProtocol.nonceLength else {
                throw MailboxError(.malformed, "request needs a timestamp and a \(MailboxProtocol.nonceLength)-byte nonce")
            }
            let operation: Operation
            switch parsedKind {
            case .createQueue:
                guard let recipientKey, let senderKey,
                      recipientKey.count == MailboxProtocol.keyLength, senderKey.count == MailboxProtocol.keyLength else {
                    throw MailboxError(.malformed, "createQueue needs two \(MailboxProtocol.keyLength)-byte keys")
                }
                operation = .createQueue(recipientKey: recipientKey, senderKey: senderKey)
            case .deposit:
                guard let envelope else { throw MailboxError(.malformed, "deposit without an envelope") }
                operation = .deposit(envelope: envelope, ttlSeconds: ttl)
            case .list: operation = .list(afterSequence: afterSequence, limit: limit)
            case .fetch: operation = .fetch(cids)
            case .acknowledge: operation = .acknowledge(cids)
            case .subscribe: operation = .subscribe
            case .deleteQueue: operation = .deleteQueue
            case .status: operation = .status
            case .setPushEndpoint: operation = .setPushEndpoint(pushURL)
            case .depositBlocks:
                guard !blocks.isEmpty else { throw MailboxError(.malformed, "depositBlocks without blocks") }
                operation = .depositBlocks(blocks, ttlSeconds: ttl)
            case .fetchBlocks: operation = .fetchBlocks(cids)
            case .acknowledgeBlocks: operation = .acknowledgeBlocks(cids)
            }
            if parsedKind != .createQueue && queueID == nil {
                throw MailboxError(.malformed, "\(parsedKind) needs a queue id")
            }
            self.init(operation: operation, queueID: queueID, timestamp: timestamp, nonce: nonce)
        }

        /// One `Block { bytes cid = 1; bytes data = 2; }`, its sizes checked (not its hash:
        /// the mailbox checks that before storing).
        private static func parseBlock(_ bytes: [UInt8]) throws -> MailboxResponse.Block {
            var cid: CID?
            var data: [UInt8] = []
            var reader = ProtobufReader(bytes)
            while let field = try reader.next() {
                switch field.number {
                case 1:
                    let raw = try field.bytes()
                    guard raw.count <= MailboxProtocol.maxCIDLength else {
                        throw MailboxError(.malformed, "CID of \(raw.count) bytes")
                    }
                    cid = try CID(bytes: raw)
                case 2:
                    data = try field.bytes()
                    guard data.count <= MailboxProtocol.maxBlockLength else {
                        throw MailboxError(.blockTooLarge, "block of \(data.count) bytes exceeds \(MailboxProtocol.maxBlockLength)")
                    }
                default: continue
                }
            }
            guard let cid else { throw MailboxError(.malformed, "block without a CID") }
            return MailboxResponse.Block(cid: cid, data: data)
        }

        /// The protobuf encoding.
        public func encode() -> [UInt8] {
            var writer = ProtobufWriter()
            writer.writeVarint(field: 1, UInt64(operation.kind.rawValue))
            if let queueID { writer.writeBytes(field: 2, queueID.bytes) }
            writer.writeVarint(field: 3, timestamp)
            writer.writeBytes(field: 4, nonce)
            switch operation {
            case .createQueue(let recipientKey, let senderKey):
                writer.writeBytes(field: 5, recipientKey)
                writer.writeBytes(field: 6, senderKey)
            case .deposit(let envelope, let ttl):
                writer.writeBytes(field: 7, envelope)
                if ttl > 0 { writer.writeVarint(field: 8, ttl) }
            case .list(let after, let limit):
                writer.writeVarint(field: 9, after)
                writer.writeVarint(field: 10, UInt64(limit))
            case .fetch(let cids), .acknowledge(let cids), .fetchBlocks(let cids), .acknowledgeBlocks(let cids):
                for cid in cids { writer.writeBytes(field: 11, cid.bytes) }
            case .depositBlocks(let blocks, let ttl):
                if ttl > 0 { writer.writeVarint(field: 8, ttl) }
                for block in blocks {
                    var inner = ProtobufWriter()
                    inner.writeBytes(field: 1, block.cid.bytes)
                    inner.writeBytes(field: 2, block.data)
                    writer.writeBytes(field: 13, inner.bytes)
                }
            case .setPushEndpoint(let url):
                if let url { writer.writeString(field: 12, url) }
            case .subscribe, .deleteQueue, .status:
                break
            }
            return writer.bytes
        }
    }

    /// The format version.
    public var version: UInt32
    /// The encoded body, exactly as signed.
    public var bodyBytes: [UInt8]
    /// The Ed25519 signature.
    public var signature: [UInt8]

    public init(version: UInt32 = MailboxProtocol.version, bodyBytes: [UInt8], signature: [UInt8]) {
        self.version = version
        self.bodyBytes = bodyBytes
        self.signature = signature
    }

    /// Parses the outer frame; the body is parsed separately (after the version check).
    public init(parsing bytes: [UInt8]) throws {
        var version: UInt32?
        var body: [UInt8]?
        var signature: [UInt8]?
        var reader = ProtobufReader(bytes)
        do {
            while let field = try reader.next() {
                switch field.number {
                case 1: version = UInt32(truncatingIfNeeded: try field.varint())
                case 2: body = try field.bytes()
                case 3: signature = try field.bytes()
                default: continue
                }
            }
        } catch {
            throw MailboxError(.malformed, "request does not parse", underlying: error)
        }
        guard let version, let body, let signature else {
            throw MailboxError(.malformed, "request needs version, body and signature")
        }
        guard signature.count == MailboxProtocol.signatureLength else {
            throw MailboxError(.malformed, "signature must be \(MailboxProtocol.signatureLength) bytes")
        }
        self.init(version: version, bodyBytes: body, signature: signature)
    }

    /// The protobuf encoding.
    public func encode() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, UInt64(version))
        writer.writeBytes(field: 2, bodyBytes)
        writer.writeBytes(field: 3, signature)
        return writer.bytes
    }

    /// The bytes a request signature covers for the mailbox with `mailboxPeerID`.
    public static func signingInput(body: [UInt8], mailboxPeerID: [UInt8]) -> [UInt8] {
        var input = MailboxProtocol.signingPrefix
        input.reserveCapacity(input.count + 10 + mailboxPeerID.count + body.count)
        var length = UInt64(mailboxPeerID.count)
        while length >= 0x80 {
            input.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        input.append(UInt8(length))
        input += mailboxPeerID
        input += body
        return input
    }
}
