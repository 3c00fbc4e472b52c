import LibP2P
import Multiformats

/// One answer from a mailbox, or one notification on a subscribed stream.
///
/// ```
/// message Response {
///   uint32 version          = 1;
///   uint32 status           = 2;  // 0 = ok, else MailboxError.Code.wireValue
///   string message          = 3;  // error detail (never queue content)
///   bytes  queue_id         = 4;  // createQueue
///   bytes  cid              = 5;  // deposit
///   bool   duplicate        = 6;  // deposit: already stored, not stored again
///   repeated Entry entries  = 7;  // list
///   repeated Block blocks   = 8;  // fetch
///   repeated bytes missing  = 9;  // fetch: CIDs not in the queue (or expired)
///   repeated bytes corrupt  = 10; // fetch: CIDs whose stored bytes failed the hash check (dropped)
///   uint64 count            = 11; // status: envelopes; acknowledge: deleted
///   uint64 byte_count       = 12; // status
///   uint64 max_count        = 13; // status: quota
///   uint64 max_bytes        = 14; // status: quota
///   bool   has_push         = 15; // status
///   Entry  notification     = 16; // subscribe stream: a new deposit
///   uint64 next_sequence    = 17; // list: last sequence listed (0 if none)
/// }
/// message Entry { bytes cid = 1; uint64 size = 2; uint64 sequence = 3; uint64 expires_ms = 4; }
/// message Block { bytes cid = 1; bytes data = 2; }
/// ```
public struct MailboxResponse: Sendable, Equatable {
    /// One stored envelope as listed.
    public struct Entry: Sendable, Equatable, Hashable {
        /// The envelope's CID (v1, raw, sha2-256).
        public var cid: CID
        /// Its length in bytes.
        public var size: UInt64
        /// Its deposit order in the mailbox (increasing, not contiguous).
        public var sequence: UInt64
        /// When the mailbox deletes it unless acknowledged earlier (ms since the epoch).
        public var expiresAt: UInt64

        public init(cid: CID, size: UInt64, sequence: UInt64, expiresAt: UInt64) {
            self.cid = cid
            self.size = size
            self.sequence = sequence
            self.expiresAt = expiresAt
        }

        init(parsing bytes: [UInt8]) throws {
            var cid: CID?
            var size: UInt64 = 0, sequence: UInt64 = 0, expiresAt: UInt64 = 0
            var reader = ProtobufReader(bytes)
            while let field = try reader.next() {
                switch field.number {
                case 1: cid = try CID(bytes: try field.bytes())
                case 2: size = try field.varint()
                case 3: sequence = try field.varint()
                case 4: expiresAt = try field.varint()
                default: continue
                }
            }
            guard let cid else { throw MailboxError(.badResponse, "entry without a CID") }
            self.init(cid: cid, size: size, sequence: sequence, expiresAt: expiresAt)
        }

        func encode() -> [UInt8] {
            var writer = ProtobufWriter()
            writer.writeBytes(field: 1, cid.bytes)
            writer.writeVarint(field: 2, size)
            writer.writeVarint(field: 3, sequence)
            writer.writeVarint(field: 4, expiresAt)
            return writer.bytes
        }
    }

    /// One fetched envelope.
    public struct Block: Sendable, Equatable {
        /// The CID asked for.
        public var cid: CID
        /// The envelope bytes (hash-checked by the mailbox; check again on receipt).
        public var data: [UInt8]

        public init(cid: CID, data: [UInt8]) {
            self.cid = cid
            self.data = data
        }
    }

    public var version: UInt32 = MailboxProtocol.version
    /// 0 for success, else an error code's wire value.
    public var status: UInt32 = 0
    public var message: String = ""
    public var queueID: QueueID?
    public var cid: CID?
    public var duplicate = false
    public var entries: [Entry] = []
    public var blocks: [Block] = []
    public var missing: [CID] = []
    public var corrupt: [CID] = []
    public var count: UInt64 = 0
    public var byteCount: UInt64 = 0
    public var maxCount: UInt64 = 0
    public var maxBytes: UInt64 = 0
    public var hasPush = false
    public var notification: Entry?
    public var lastSequence: UInt64 = 0

    public init() {}

    /// An error answer.
    public init(error: MailboxError) {
        status = error.code.wireValue
        message = error.message
    }

    /// The error this answer carries, if any.
    public var error: MailboxError? {
        guard status != 0 else { return nil }
        return MailboxError(.fromWire(status), message.isEmpty ? "mailbox refused (status \(status))" : message)
    }

    /// Parses a response; anything off is `.badResponse`.
    public init(parsing bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes)
        do {
            while let field = try reader.next() {
                switch field.number {
                case 1: version = UInt32(truncatingIfNeeded: try field.varint())
                case 2: status = UInt32(truncatingIfNeeded: try field.varint())
                case 3: message = String(try field.string().prefix(512))
                case 4: queueID = try QueueID(bytes: try field.bytes())
                case 5: cid = try CID(bytes: try field.bytes())
                case 6: duplicate = try field.varint() != 0
                case 7: entries.append(try Entry(parsing: try field.bytes()))
                case 8:
                    var blockReader = ProtobufReader(try field.bytes())
                    var cid: CID?
                    var data: [UInt8] = []
                    while let blockField = try blockReader.next() {
                        switch blockField.number {
                        case 1: cid = try CID(bytes: try blockField.bytes())
                        case 2: data = try blockField.bytes()
                        default: continue
                        }
                    }
                    guard let cid else { throw MailboxError(.badResponse, "block without a CID") }
                    blocks.append(Block(cid: cid, data: data))
                case 9: missing.append(try CID(bytes: try field.bytes()))
                case 10: corrupt.append(try CID(bytes: try field.bytes()))
                case 11: count = try field.varint()
                case 12: byteCount = try field.varint()
                case 13: maxCount = try field.varint()
                case 14: maxBytes = try field.varint()
                case 15: hasPush = try field.varint() != 0
                case 16: notification = try Entry(parsing: try field.bytes())
                case 17: lastSequence = try field.varint()
                default: continue
                }
            }
        } catch let error as MailboxError {
            throw error
        } catch {
            throw MailboxError(.badResponse, "mailbox answer does not parse", underlying: error)
        }
    }

    /// The protobuf encoding.
    public func encode() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, UInt64(version))
        if status != 0 { writer.writeVarint(field: 2, UInt64(status)) }
        if !message.isEmpty { writer.writeString(field: 3, message) }
        if let queueID { writer.writeBytes(field: 4, queueID.bytes) }
        if let cid { writer.writeBytes(field: 5, cid.bytes) }
        if duplicate { writer.writeVarint(field: 6, 1) }
        for entry in entries { writer.writeBytes(field: 7, entry.encode()) }
        for block in blocks {
            var inner = ProtobufWriter()
            inner.writeBytes(field: 1, block.cid.bytes)
            inner.writeBytes(field: 2, block.data)
            writer.writeBytes(field: 8, inner.bytes)
        }
        for cid in missing { writer.writeBytes(field: 9, cid.bytes) }
        for cid in corrupt { writer.writeBytes(field: 10, cid.bytes) }
        if count != 0 { writer.writeVarint(field: 11, count) }
        if byteCount != 0 { writer.writeVarint(field: 12, byteCount) }
        if maxCount != 0 { writer.writeVarint(field: 13, maxCount) }
        if maxBytes != 0 { writer.writeVarint(field: 14, maxBytes) }
        if hasPush { writer.writeVarint(field: 15, 1) }
        if let notification { writer.writeBytes(field: 16, notification.encode()) }
        if lastSequence != 0 { writer.writeVarint(field: 17, lastSequence) }
        return writer.bytes
    }
}
