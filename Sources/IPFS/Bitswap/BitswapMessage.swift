import LibP2P
import Multiformats
import NIOCore

/// One Bitswap message (ipfs/specs `src/bitswap-protocol.md`, libp2p.md §6):
///
/// ```
/// Message{ wantlist=1{ entries=1{block=1; priority=2; cancel=3; wantType=4; sendDontHave=5}; full=2 };
///          blocks=2 (1.0.0); payload=3{prefix=1; data=2}; blockPresences=4{cid=1; type=2}; pendingBytes=5 }
/// ```
///
/// Parsing is strict: every known field must have its declared wire type, CIDs and prefixes
/// must parse, enum values must be known, and counts are bounded. Unknown field numbers are
/// skipped (proto3 forward compatibility). Messages travel uvarint-length-prefixed, at most
/// ``maxMessageSize`` bytes (go-libp2p `network.MessageSizeMax`).
public struct BitswapMessage: Hashable, Sendable {
    /// The largest encoded message accepted or sent, 4 MiB.
    public static let maxMessageSize = 4 << 20
    /// The most wantlist entries accepted in one message.
    public static let maxEntries = 16_384
    /// The most block presences accepted in one message.
    public static let maxPresences = 16_384

    /// What a want asks for (spec "wantType").
    public enum WantType: UInt64, Hashable, Sendable {
        /// The block itself.
        case block = 0
        /// Only whether the peer has it (1.2.0).
        case have = 1
    }

    /// One wantlist entry.
    public struct Entry: Hashable, Sendable {
        /// The wanted block.
        public var cid: CID
        /// Higher is more urgent.
        public var priority: Int32
        /// Whether this entry cancels an earlier want for `cid`.
        public var isCancel: Bool
        /// Block or have (1.2.0; 1.0.0/1.1.0 peers only send `.block`).
        public var wantType: WantType
        /// Whether the peer should answer DONT_HAVE when it lacks the block (1.2.0).
        public var sendDontHave: Bool

        /// Creates an entry.
        public init(cid: CID, priority: Int32 = 1, isCancel: Bool = false, wantType: WantType = .block, sendDontHave: Bool = false) {
            self.cid = cid
            self.priority = priority
            self.isCancel = isCancel
            self.wantType = wantType
            self.sendDontHave = sendDontHave
        }
    }

    /// The wantlist part of a message.
    public struct Wantlist: Hashable, Sendable {
        /// Entries, in order.
        public var entries: [Entry]
        /// Whether this is the sender's complete wantlist (replaces the previous one).
        public var isFull: Bool

        /// Creates a wantlist.
        public init(entries: [Entry] = [], isFull: Bool = false) {
            self.entries = entries
            self.isFull = isFull
        }
    }

    /// A block with the prefix of its CID (1.1.0+ `payload`).
    public struct Block: Hashable, Sendable {
        /// The prefix of the block's CID.
        public var prefix: CIDPrefix
        /// The block bytes.
        public var data: [UInt8]

        /// Creates a payload block for `cid`.
        public init(cid: CID, data: [UInt8]) {
            self.prefix = CIDPrefix(cid: cid)
            self.data = data
        }

        /// Creates a payload block from a prefix.
        public init(prefix: CIDPrefix, data: [UInt8]) {
            self.prefix = prefix
            self.data = data
        }
    }

    /// Whether a peer has a block (1.2.0 `blockPresences`).
    public struct BlockPresence: Hashable, Sendable {
        /// HAVE = 0, DONT_HAVE = 1.
        public enum Kind: UInt64, Hashable, Sendable {
            case have = 0
            case dontHave = 1
        }
        /// The block asked about.
        public var cid: CID
        /// The answer.
        public var kind: Kind

        /// Creates a presence.
        public init(cid: CID, kind: Kind) {
            self.cid = cid
            self.kind = kind
        }
    }

    /// The wantlist, if the message carries one.
    public var wantlist: Wantlist?
    /// Bitswap 1.0.0 blocks (bare bytes; their CID is CIDv0 / sha2-256 by convention).
    public var blocks: [[UInt8]]
    /// Bitswap 1.1.0+ blocks with prefixes.
    public var payload: [Block]
    /// Bitswap 1.2.0 presences.
    public var blockPresences: [BlockPresence]
    /// Bytes the sender still has queued for us (1.2.0).
    public var pendingBytes: Int32

    /// Creates a message.
    public init(wantlist: Wantlist? = nil, blocks: [[UInt8]] = [], payload: [Block] = [], blockPresences: [BlockPresence] = [], pendingBytes: Int32 = 0) {
        self.wantlist = wantlist
        self.blocks = blocks
        self.payload = payload
        self.blockPresences = blockPresences
        self.pendingBytes = pendingBytes
    }

    /// Whether the message carries nothing.
    public var isEmpty: Bool {
        (wantlist?.entries.isEmpty ?? true) && wantlist?.isFull != true && blocks.isEmpty && payload.isEmpty && blockPresences.isEmpty
    }

    // MARK: Parsing

    /// Parses one message (without its length prefix), strictly.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxMessageSize else {
            throw IPFSError(.limitExceeded, "Bitswap message of \(bytes.count) bytes exceeds \(Self.maxMessageSize)")
        }
        self.init()
        // Payload blocks are read in place, so each block's bytes are copied once, into its
        // `data`; the other fields are small.
        try Self.fields(bytes, "Message", inPlace: [3]) { field, range in
            switch field.number {
            case 1:
                guard wantlist == nil else { throw IPFSError(.malformedInput, "Bitswap: repeated wantlist") }
                wantlist = try Self.parseWantlist(try Self.bytes(field, "wantlist"))
            case 2:
                blocks.append(try Self.bytes(field, "blocks"))
            case 3:
                guard let range else { throw IPFSError(.malformedInput, "Bitswap: payload must be length-delimited") }
                payload.append(try Self.parseBlock(bytes, range))
            case 4:
                guard blockPresences.count < Self.maxPresences else {
                    throw IPFSError(.limitExceeded, "Bitswap: more than \(Self.maxPresences) block presences")
                }
                blockPresences.append(try Self.parsePresence(try Self.bytes(field, "blockPresences")))
            case 5:
                pendingBytes = try Self.int32(field, "pendingBytes")
            default:
                break
            }
        }
    }

    private static func parseWantlist(_ bytes: [UInt8]) throws -> Wantlist {
        var wantlist = Wantlist()
        try fields(bytes, "Wantlist") { field in
            switch field.number {
            case 1:
                guard wantlist.entries.count < maxEntries else {
                    throw IPFSError(.limitExceeded, "Bitswap: more than \(maxEntries) wantlist entries")
                }
                wantlist.entries.append(try parseEntry(try self.bytes(field, "entries")))
            case 2:
                wantlist.isFull = try bool(field, "full")
            default:
                break
            }
        }
        return wantlist
    }

    private static func parseEntry(_ bytes: [UInt8]) throws -> Entry {
        var cid: CID?
        var entry = Entry(cid: CID.v1(codec: .raw, multihash: .identity([])), priority: 0)
        try fields(bytes, "Entry") { field in
            switch field.number {
            case 1: cid = try parseCID(try self.bytes(field, "entry block"))
            case 2: entry.priority = try int32(field, "priority")
            case 3: entry.isCancel = try bool(field, "cancel")
            case 4:
                guard let type = WantType(rawValue: try varint(field, "wantType")) else {
                    throw IPFSError(.malformedInput, "Bitswap: unknown wantType")
                }
                entry.wantType = type
            case 5: entry.sendDontHave = try bool(field, "sendDontHave")
            default: break
            }
        }
        guard let cid else { throw IPFSError(.malformedInput, "Bitswap: wantlist entry without a CID") }
        entry.cid = cid
        return entry
    }

    /// The payload block at `range` of `message`.
    private static func parseBlock(_ message: [UInt8], _ range: Range<Int>) throws -> Block {
        var prefix: CIDPrefix?
        var data: [UInt8] = []
        try fields(message, "Block", range: range, inPlace: [1, 2]) { field, range in
            guard field.number == 1 || field.number == 2 else { return }
            guard let range else { throw IPFSError(.malformedInput, "Bitswap: block field \(field.number) must be length-delimited") }
            if field.number == 1 {
                prefix = try CIDPrefix(parsing: Array(message[range]))
            } else {
                data = Array(message[range])
            }
        }
        guard let prefix else { throw IPFSError(.malformedInput, "Bitswap: payload block without a prefix") }
        return Block(prefix: prefix, data: data)
    }

    private static func parsePresence(_ bytes: [UInt8]) throws -> BlockPresence {
        var cid: CID?
        var kind = BlockPresence.Kind.have
        try fields(bytes, "BlockPresence") { field in
            switch field.number {
            case 1: cid = try parseCID(try self.bytes(field, "presence cid"))
            case 2:
                guard let value = BlockPresence.Kind(rawValue: try varint(field, "presence type")) else {
                    throw IPFSError(.malformedInput, "Bitswap: unknown presence type")
                }
                kind = value
            default: break
            }
        }
        guard let cid else { throw IPFSError(.malformedInput, "Bitswap: block presence without a CID") }
        return BlockPresence(cid: cid, kind: kind)
    }

    private static func parseCID(_ bytes: [UInt8]) throws -> CID {
        do {
            return try CID(bytes: bytes)
        } catch {
            throw IPFSError(.malformedInput, "Bitswap: invalid CID", underlying: error)
        }
    }

    private static func fields(_ bytes: [UInt8], _ what: String, _ body: (ProtobufField) throws -> Void) throws {
        try fields(bytes, what, inPlace: []) { field, _ in try body(field) }
    }

    /// Calls `body` with each field of the message at `range` of `bytes` (all of it by
    /// default). Length-delimited fields numbered in `inPlace` are passed as their range in
    /// `bytes` (with an empty value), not copied.
    private static func fields(
        _ bytes: [UInt8], _ what: String, range: Range<Int>? = nil, inPlace: Set<Int>,
        _ body: (ProtobufField, Range<Int>?) throws -> Void
    ) throws {
        var reader = ProtobufReader(bytes, range: range ?? 0..<bytes.count)
        do {
            while let (number, value, location) = try reader.nextInPlace() {
                if let location {
                    if inPlace.contains(number) {
                        try body(ProtobufField(number: number, value: .bytes([])), location)
                    } else {
                        try body(ProtobufField(number: number, value: .bytes(Array(bytes[location]))), nil)
                    }
                } else if let value {
                    try body(ProtobufField(number: number, value: value), nil)
                }
            }
        } catch let error as IPFSError {
            throw error
        } catch {
            throw IPFSError(.malformedInput, "Bitswap: malformed \(what)", underlying: error)
        }
    }

    private static func bytes(_ field: ProtobufField, _ name: String) throws -> [UInt8] {
        guard case .bytes(let value) = field.value else {
            throw IPFSError(.malformedInput, "Bitswap: \(name) must be length-delimited")
        }
        return value
    }

    private static func varint(_ field: ProtobufField, _ name: String) throws -> UInt64 {
        guard case .varint(let value) = field.value else {
            throw IPFSError(.malformedInput, "Bitswap: \(name) must be a varint")
        }
        return value
    }

    private static func bool(_ field: ProtobufField, _ name: String) throws -> Bool {
        let value = try varint(field, name)
        guard value <= 1 else { throw IPFSError(.malformedInput, "Bitswap: \(name) is not a bool") }
        return value == 1
    }

    private static func int32(_ field: ProtobufField, _ name: String) throws -> Int32 {
        let value = Int64(bitPattern: try varint(field, name))
        guard let narrowed = Int32(exactly: value) else {
            throw IPFSError(.malformedInput, "Bitswap: \(name) out of int32 range")
        }
        return narrowed
    }

    // MARK: Encoding

    /// Appends the encoding (proto3: default values omitted, fields in number order).
    public func encode(into bytes: inout [UInt8]) {
        let (pieces, count) = encodedPieces()
        bytes.reserveCapacity(bytes.count + count)
        for piece in pieces { bytes.append(contentsOf: piece) }
    }

    /// The encoding behind its uvarint length prefix, as one buffer: each block's bytes are
    /// copied once, straight into it (the server's reply path).
    ///
    /// - Throws: ``IPFSError`` `.limitExceeded` if the encoding exceeds ``maxMessageSize``.
    public func lengthPrefixedBuffer() throws -> ByteBuffer {
        let (pieces, count) = encodedPieces()
        guard count <= Self.maxMessageSize else {
            throw IPFSError(.limitExceeded, "refusing to send a Bitswap message of \(count) bytes")
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count + Varint.encodedLength(of: UInt64(count)))
        buffer.writeBytes(Varint.encode(UInt64(count)))
        for piece in pieces { buffer.writeBytes(piece) }
        return buffer
    }

    /// The encoding as consecutive pieces, small framing bytes between the blocks' own byte
    /// arrays (shared, not copied), and the total byte count.
    private func encodedPieces() -> (pieces: [[UInt8]], count: Int) {
        var pieces: [[UInt8]] = []
        var writer = ProtobufWriter()
        if let wantlist {
            var list = ProtobufWriter()
            for entry in wantlist.entries {
                var item = ProtobufWriter()
                item.writeBytes(field: 1, entry.cid.bytes)
                if entry.priority != 0 { item.writeVarint(field: 2, UInt64(bitPattern: Int64(entry.priority))) }
                if entry.isCancel { item.writeVarint(field: 3, 1) }
                if entry.wantType != .block { item.writeVarint(field: 4, entry.wantType.rawValue) }
                if entry.sendDontHave { item.writeVarint(field: 5, 1) }
                list.writeBytes(field: 1, item.bytes)
            }
            if wantlist.isFull { list.writeVarint(field: 2, 1) }
            writer.writeBytes(field: 1, list.bytes)
        }
        // Fields 2 and 3 hold the blocks: their headers go to `writer`, their bytes are pieces.
        func flush(then data: [UInt8]) {
            pieces.append(writer.bytes)
            pieces.append(data)
            writer = ProtobufWriter()
        }
        for block in blocks {
            writer.appendVarint(2 << 3 | 2)
            writer.appendVarint(UInt64(block.count))
            flush(then: block)
        }
        for block in payload {
            let prefix = block.prefix.bytes
            let prefixField = 1 + Varint.encodedLength(of: UInt64(prefix.count)) + prefix.count
            let dataField = 1 + Varint.encodedLength(of: UInt64(block.data.count)) + block.data.count
            writer.appendVarint(3 << 3 | 2)
            writer.appendVarint(UInt64(prefixField + dataField))
            writer.writeBytes(field: 1, prefix)
            writer.appendVarint(2 << 3 | 2)
            writer.appendVarint(UInt64(block.data.count))
            flush(then: block.data)
        }
        for presence in blockPresences {
            var item = ProtobufWriter()
            item.writeBytes(field: 1, presence.cid.bytes)
            if presence.kind != .have { item.writeVarint(field: 2, presence.kind.rawValue) }
            writer.writeBytes(field: 4, item.bytes)
        }
        if pendingBytes != 0 { writer.writeVarint(field: 5, UInt64(bitPattern: Int64(pendingBytes))) }
        pieces.append(writer.bytes)
        return (pieces, pieces.reduce(0) { $0 + $1.count })
    }

    /// The encoding.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The blocks of the message as `(CID, bytes)`: payload CIDs rebuilt from prefix and data,
    /// 1.0.0 blocks as CIDv0 (sha2-256). Blocks whose prefix names an unsupported hash are
    /// returned in `unverifiable`.
    public func receivedBlocks() -> ReceivedBlocks {
        var result = ReceivedBlocks()
        for block in payload {
            if let cid = try? block.prefix.cid(for: block.data) {
                result.blocks.append((cid, block.data))
            } else {
                result.unverifiable += 1
            }
        }
        for data in blocks {
            // A 1.0.0 block carries no prefix: go assumes CIDv0 (sha2-256 dag-pb).
            result.blocks.append((try! CID(version: .v0, codec: .dagPB, multihash: .sha256(data)), data))
        }
        return result
    }
}

/// The blocks of a received message with the CIDs rebuilt from their bytes (hashed once, by
/// ``BitswapMessage/receivedBlocks()``), so every CID here is verified.
public struct ReceivedBlocks: Sendable {
    /// Each block with the CID its bytes hash to.
    public var blocks: [(cid: CID, data: [UInt8])] = []
    /// Payload blocks whose prefix names a hash function or codec we cannot check.
    public var unverifiable = 0

    /// No blocks.
    public init() {}
}
