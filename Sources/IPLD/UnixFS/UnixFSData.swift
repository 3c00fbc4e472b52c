/// The UnixFS `Data` message carried in a DAG-PB node's Data field.
///
/// Implements ipfs/specs `src/unixfs.md` ("Data Format"):
/// `Data{Type=1, Data=2, filesize=3, blocksizes=4 (repeated), hashType=5, fanout=6, mode=7,
/// mtime=8}` with `UnixTime{Seconds=1 (int64), FractionalNanoseconds=2 (fixed32)}`.
/// Fields are written in field-number order with `blocksizes` unpacked, as go-unixfs does.
public struct UnixFSData: Hashable, Sendable {
    /// The node type (`DataType`).
    public struct DataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The protobuf enum value.
        public var rawValue: UInt64
        /// Wraps a protobuf enum value (unknown values are kept, and refused by readers).
        public init(rawValue: UInt64) { self.rawValue = rawValue }

        /// `Raw` = 0: file data without metadata (old leaves).
        public static let raw = DataType(rawValue: 0)
        /// `Directory` = 1: links are named entries.
        public static let directory = DataType(rawValue: 1)
        /// `File` = 2: data plus child blocks whose sizes are `blocksizes`.
        public static let file = DataType(rawValue: 2)
        /// `Metadata` = 3 (deprecated).
        public static let metadata = DataType(rawValue: 3)
        /// `Symlink` = 4: `data` is the target path.
        public static let symlink = DataType(rawValue: 4)
        /// `HAMTShard` = 5: one node of a sharded directory.
        public static let hamtShard = DataType(rawValue: 5)

        public var description: String {
            let names = ["Raw", "Directory", "File", "Metadata", "Symlink", "HAMTShard"]
            return rawValue < UInt64(names.count) ? names[Int(rawValue)] : "unknown(\(rawValue))"
        }
    }

    /// A modification time (`UnixTime`).
    public struct UnixTime: Hashable, Sendable {
        /// Seconds since the Unix epoch.
        public var seconds: Int64
        /// Nanoseconds, 1 … 999 999 999, or `nil`.
        public var fractionalNanoseconds: UInt32?

        /// Creates a time.
        public init(seconds: Int64, fractionalNanoseconds: UInt32? = nil) {
            self.seconds = seconds
            self.fractionalNanoseconds = fractionalNanoseconds
        }
    }

    /// The most `blocksizes` entries accepted when parsing (one per link of the node).
    public static let maxBlockSizes = 1 << 16

    /// The node type.
    public var type: DataType
    /// Inline file data (File/Raw), or the symlink target.
    public var data: [UInt8]?
    /// The total size of the file's bytes under this node.
    public var fileSize: UInt64?
    /// The file bytes under each child link, in link order.
    public var blockSizes: [UInt64]
    /// The HAMT hash function (HAMTShard only).
    public var hashType: UInt64?
    /// The HAMT fanout (HAMTShard only).
    public var fanout: UInt64?
    /// POSIX permission bits.
    public var mode: UInt32?
    /// The modification time.
    public var mtime: UnixTime?

    /// Creates a `Data` message.
    public init(
        type: DataType, data: [UInt8]? = nil, fileSize: UInt64? = nil, blockSizes: [UInt64] = [],
        hashType: UInt64? = nil, fanout: UInt64? = nil, mode: UInt32? = nil, mtime: UnixTime? = nil
    ) {
        self.type = type
        self.data = data
        self.fileSize = fileSize
        self.blockSizes = blockSizes
        self.hashType = hashType
        self.fanout = fanout
        self.mode = mode
        self.mtime = mtime
    }

    /// Parses a `Data` message; `Type` is required, other fields at most once (blocksizes may
    /// repeat, packed or not).
    public init(parsing bytes: some Collection<UInt8>) throws {
        var reader = ProtobufReader(ArraySlice(bytes))
        var type: DataType?
        var result = UnixFSData(type: .raw)
        var seen: Set<UInt64> = []
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readKey("UnixFS Data")
            guard field == 4 || seen.insert(field).inserted else {
                throw IPLDError(.malformedInput, "UnixFS Data field \(field) repeated")
            }
            switch (field, wireType) {
            case (1, .varint): type = DataType(rawValue: try reader.readVarint("UnixFS Type"))
            case (2, .lengthDelimited): result.data = Array(try reader.readLengthDelimited("UnixFS Data"))
            case (3, .varint): result.fileSize = try reader.readVarint("UnixFS filesize")
            case (4, .varint): result.blockSizes.append(try reader.readVarint("UnixFS blocksizes"))
            case (4, .lengthDelimited):
                var packed = ProtobufReader(try reader.readLengthDelimited("UnixFS blocksizes"))
                while !packed.isAtEnd { result.blockSizes.append(try packed.readVarint("UnixFS blocksizes")) }
            case (5, .varint): result.hashType = try reader.readVarint("UnixFS hashType")
            case (6, .varint): result.fanout = try reader.readVarint("UnixFS fanout")
            case (7, .varint):
                let mode = try reader.readVarint("UnixFS mode")
                guard let mode32 = UInt32(exactly: mode) else {
                    throw IPLDError(.malformedInput, "UnixFS mode \(mode) exceeds 32 bits")
                }
                result.mode = mode32
            case (8, .lengthDelimited):
                result.mtime = try Self.parseUnixTime(reader.readLengthDelimited("UnixFS mtime"))
            default:
                throw IPLDError(.malformedInput, "UnixFS Data field \(field) with wire type \(wireType) is not allowed")
            }
            guard result.blockSizes.count <= Self.maxBlockSizes else {
                throw IPLDError(.limitExceeded, "more than \(Self.maxBlockSizes) UnixFS blocksizes")
            }
        }
        guard let type else { throw IPLDError(.malformedInput, "UnixFS Data has no Type") }
        result.type = type
        self = result
    }

    private static func parseUnixTime(_ bytes: ArraySlice<UInt8>) throws -> UnixTime {
        var reader = ProtobufReader(bytes)
        var seconds: Int64?
        var nanoseconds: UInt32?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readKey("UnixFS mtime")
            switch (field, wireType) {
            case (1, .varint): seconds = Int64(bitPattern: try reader.readVarint("UnixFS mtime.Seconds"))
            case (2, .fixed32): nanoseconds = try reader.readFixed32("UnixFS mtime.FractionalNanoseconds")
            default: throw IPLDError(.malformedInput, "UnixTime field \(field) is not allowed")
            }
        }
        guard let seconds else { throw IPLDError(.malformedInput, "UnixTime has no Seconds") }
        return UnixTime(seconds: seconds, fractionalNanoseconds: nanoseconds)
    }

    /// Appends the encoding, fields in number order (go-unixfs `pb.Data` marshalling).
    public func encode(into bytes: inout [UInt8]) {
        ProtobufWriter.writeUInt(field: 1, type.rawValue, into: &bytes)
        if let data { ProtobufWriter.writeBytes(field: 2, data, into: &bytes) }
        if let fileSize { ProtobufWriter.writeUInt(field: 3, fileSize, into: &bytes) }
        for size in blockSizes { ProtobufWriter.writeUInt(field: 4, size, into: &bytes) }
        if let hashType { ProtobufWriter.writeUInt(field: 5, hashType, into: &bytes) }
        if let fanout { ProtobufWriter.writeUInt(field: 6, fanout, into: &bytes) }
        if let mode { ProtobufWriter.writeUInt(field: 7, UInt64(mode), into: &bytes) }
        if let mtime {
            var time: [UInt8] = []
            ProtobufWriter.writeUInt(field: 1, UInt64(bitPattern: mtime.seconds), into: &time)
            if let nanos = mtime.fractionalNanoseconds { ProtobufWriter.writeFixed32(field: 2, nanos, into: &time) }
            ProtobufWriter.writeBytes(field: 8, time, into: &bytes)
        }
    }

    /// The encoded message.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }
}
