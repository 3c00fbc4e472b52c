import Multiformats

/// Imports files into UnixFS DAGs the way Kubo's `ipfs add` does, streaming.
///
/// Implements ipfs/specs `src/unixfs.md` with boxo's balanced layout
/// (`ipld/unixfs/importer/balanced/builder.go`): fixed-size chunks, each a leaf; the first leaf
/// is the root until a second chunk arrives, then a root of depth 1 takes it as its first child
/// and fills up to ``Options/maxLinksPerNode`` children; a full root becomes the first child of
/// a root one level deeper. Blocks go to the sink as soon as they are complete (leaves before
/// their parents, the root last), so memory stays bounded by one chunk plus one pending node
/// per level. With the same settings the root CID equals Kubo 0.22's.
public struct UnixFSImporter: Sendable {
    /// Import settings.
    public struct Options: Sendable, Hashable {
        /// The largest chunk size accepted (Kubo caps blocks at 1 MiB).
        public static let maxChunkSize = 1 << 20
        /// The most links one file node may have.
        public static let maxLinksLimit = 4096

        /// Bytes per leaf (Kubo: 262144).
        public var chunkSize: Int
        /// Children per internal node (Kubo: 174).
        public var maxLinksPerNode: Int
        /// CID version of the DAG-PB nodes (Kubo: v0; v1 with `--cid-version=1`).
        public var cidVersion: CID.Version
        /// Leaves as raw blocks (codec 0x55, CIDv1) instead of DAG-PB UnixFS File nodes.
        public var rawLeaves: Bool
        /// Writes `Name` as an empty string on file links (`12 00`), as go-merkledag always
        /// does (boxo `ipld/merkledag/coding.go`); needed for Kubo-identical CIDs. When `false`,
        /// the field is omitted, as js-ipfs-unixfs does.
        public var writesEmptyLinkNames: Bool

        /// Creates options; the defaults are Kubo 0.22's `ipfs add`.
        public init(
            chunkSize: Int = 262_144, maxLinksPerNode: Int = 174, cidVersion: CID.Version = .v0,
            rawLeaves: Bool = false, writesEmptyLinkNames: Bool = true
        ) {
            self.chunkSize = chunkSize
            self.maxLinksPerNode = maxLinksPerNode
            self.cidVersion = cidVersion
            self.rawLeaves = rawLeaves
            self.writesEmptyLinkNames = writesEmptyLinkNames
        }

        /// Kubo 0.22 `ipfs add` defaults: 256 KiB chunks, 174 links, CIDv0, DAG-PB leaves.
        public static let kubo = Options()
        /// Kubo 0.22 `ipfs add --cid-version=1`: CIDv1 with raw leaves.
        public static let kuboCIDv1 = Options(cidVersion: .v1, rawLeaves: true)
        /// Storacha / w3up client defaults (`@ipld/unixfs`): 1 MiB chunks, 1024 links, CIDv1, raw
        /// leaves.
        public static let storacha = Options(
            chunkSize: 1 << 20, maxLinksPerNode: 1024, cidVersion: .v1, rawLeaves: true, writesEmptyLinkNames: false
        )

        func validate() throws {
            guard chunkSize > 0, chunkSize <= Self.maxChunkSize else {
                throw IPLDError(.limitExceeded, "chunk size \(chunkSize) outside 1…\(Self.maxChunkSize)")
            }
            guard maxLinksPerNode >= 2, maxLinksPerNode <= Self.maxLinksLimit else {
                throw IPLDError(.limitExceeded, "links per node \(maxLinksPerNode) outside 2…\(Self.maxLinksLimit)")
            }
            guard cidVersion == .v1 || !rawLeaves else {
                throw IPLDError(.unsupportedValue, "raw leaves need CIDv1")
            }
        }
    }

    /// One imported node: its CID, the file bytes under it and its cumulative size.
    public struct Entry: Hashable, Sendable {
        /// The node's CID.
        public var cid: CID
        /// The file bytes under this node (0 for directories).
        public var fileSize: UInt64
        /// The node's block plus every block below it, in bytes (a link's `Tsize`).
        public var cumulativeSize: UInt64

        /// Creates an entry (for nodes imported elsewhere, to put them in a directory).
        public init(cid: CID, fileSize: UInt64, cumulativeSize: UInt64) {
            self.cid = cid
            self.fileSize = fileSize
            self.cumulativeSize = cumulativeSize
        }
    }

    /// A sink for finished blocks.
    public typealias BlockSink = (CID, [UInt8]) throws -> Void

    /// The import settings.
    public var options: Options

    /// Creates an importer with `options` (default: Kubo's).
    public init(options: Options = .kubo) {
        self.options = options
    }

    /// Imports a file read through `read`, emitting every block to `sink`.
    ///
    /// - Parameters:
    ///   - read: returns up to the requested number of bytes; an empty array means end of file.
    ///   - progress: called after each chunk with the number of file bytes imported so far.
    /// - Returns: the root.
    public func importFile(
        read: (_ maxCount: Int) throws -> [UInt8],
        progress: ((UInt64) -> Void)? = nil,
        sink: BlockSink
    ) throws -> Entry {
        try options.validate()
        return try withoutActuallyEscaping(read) { read in
            try withoutActuallyEscaping(sink) { sink in
                var builder = BalancedBuilder(
                    options: options, chunker: Chunker(size: options.chunkSize, read: read), sink: sink, progress: progress
                )
                return try builder.layout()
            }
        }
    }

    /// Imports an in-memory file.
    public func importFile(
        bytes: [UInt8], progress: ((UInt64) -> Void)? = nil, sink: BlockSink
    ) throws -> Entry {
        var offset = 0
        return try importFile(
            read: { maxCount in
                let end = min(bytes.count, offset + maxCount)
                defer { offset = end }
                return Array(bytes[offset..<end])
            },
            progress: progress, sink: sink
        )
    }

    /// Builds a directory node over named entries (like `ipfs add -w` for one file), emits it and
    /// returns it. Links are sorted by name bytes, as go-unixfs and the DAG-PB spec require.
    ///
    /// - Throws: ``IPLDError`` `.unsupportedValue` for empty, duplicate or `/`-containing names.
    public func makeDirectory(entries: [(name: String, entry: Entry)], sink: BlockSink) throws -> Entry {
        let sorted = entries.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where Array(previous.name.utf8) == Array(next.name.utf8) {
            throw IPLDError(.unsupportedValue, "duplicate directory entry \"\(next.name)\"")
        }
        for item in sorted where item.name.isEmpty || item.name.contains("/") {
            throw IPLDError(.unsupportedValue, "invalid directory entry name \"\(item.name)\"")
        }
        let node = PBNode(
            links: sorted.map { PBLink(hash: $0.entry.cid, name: $0.name, tsize: $0.entry.cumulativeSize) },
            data: UnixFSData(type: .directory).bytes
        )
        let bytes = node.bytes
        let cid = PBNode.cid(of: bytes, version: options.cidVersion)
        try sink(cid, bytes)
        let below = sorted.reduce(UInt64(0)) { $0 + $1.entry.cumulativeSize }
        return Entry(cid: cid, fileSize: 0, cumulativeSize: UInt64(bytes.count) + below)
    }

    /// Wraps one entry in a directory under `name` (`ipfs add -w`).
    public func wrapInDirectory(_ entry: Entry, name: String, sink: BlockSink) throws -> Entry {
        try makeDirectory(entries: [(name, entry)], sink: sink)
    }
}

/// Reads fixed-size chunks with one chunk of look-ahead (boxo `chunker.NewSizeSplitter`, which
/// fills every chunk but the last with `io.ReadFull`).
struct Chunker {
    let size: Int
    let read: (Int) throws -> [UInt8]
    private var next: [UInt8]?
    private var started = false

    init(size: Int, read: @escaping (Int) throws -> [UInt8]) {
        self.size = size
        self.read = read
    }

    private mutating func readChunk() throws -> [UInt8]? {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(size)
        while chunk.count < size {
            let part = try read(size - chunk.count)
            if part.isEmpty { break }
            guard part.count <= size - chunk.count else {
                throw IPLDError(.malformedInput, "read returned \(part.count) bytes, more than the \(size - chunk.count) asked for")
            }
            chunk.append(contentsOf: part)
        }
        return chunk.isEmpty ? nil : chunk
    }

    /// Whether the input is exhausted.
    mutating func isDone() throws -> Bool {
        if !started {
            started = true
            next = try readChunk()
        }
        return next == nil
    }

    /// The next chunk; only call after `isDone()` returned `false`.
    mutating func nextChunk() throws -> [UInt8] {
        _ = try isDone()
        guard let chunk = next else { return [] }
        next = try readChunk()
        return chunk
    }
}

/// boxo's balanced DAG builder (`importer/balanced/builder.go`, `importer/helpers/dagbuilder.go`).
struct BalancedBuilder {
    let options: UnixFSImporter.Options
    var chunker: Chunker
    let sink: UnixFSImporter.BlockSink
    let progress: ((UInt64) -> Void)?
    var bytesDone: UInt64 = 0

    init(options: UnixFSImporter.Options, chunker: Chunker, sink: @escaping UnixFSImporter.BlockSink, progress: ((UInt64) -> Void)?) {
        self.options = options
        self.chunker = chunker
        self.sink = sink
        self.progress = progress
    }

    mutating func layout() throws -> UnixFSImporter.Entry {
        if try chunker.isDone() {
            return try leaf(chunk: [])
        }
        var root = try leaf(chunk: chunker.nextChunk())
        var depth = 1
        while try !chunker.isDone() {
            root = try fill(children: [root], depth: depth)
            depth += 1
        }
        return root
    }

    /// A leaf: a raw block, or a DAG-PB node holding UnixFS `File{Data, filesize}`.
    private mutating func leaf(chunk: [UInt8]) throws -> UnixFSImporter.Entry {
        bytesDone += UInt64(chunk.count)
        defer { progress?(bytesDone) }
        if options.rawLeaves {
            let cid = CID.v1(codec: .raw, multihash: Multihash.sha256(chunk))
            try sink(cid, chunk)
            return UnixFSImporter.Entry(cid: cid, fileSize: UInt64(chunk.count), cumulativeSize: UInt64(chunk.count))
        }
        let data = UnixFSData(type: .file, data: chunk.isEmpty ? nil : chunk, fileSize: UInt64(chunk.count))
        let bytes = PBNode(data: data.bytes).bytes
        let cid = PBNode.cid(of: bytes, version: options.cidVersion)
        try sink(cid, bytes)
        return UnixFSImporter.Entry(cid: cid, fileSize: UInt64(chunk.count), cumulativeSize: UInt64(bytes.count))
    }

    /// Fills a node of `depth` (1 = parent of leaves) up to the link limit and emits it
    /// (`fillNodeRec`).
    private mutating func fill(children: [UnixFSImporter.Entry], depth: Int) throws -> UnixFSImporter.Entry {
        var children = children
        while children.count < options.maxLinksPerNode, try !chunker.isDone() {
            if depth == 1 {
                children.append(try leaf(chunk: chunker.nextChunk()))
            } else {
                children.append(try fill(children: [], depth: depth - 1))
            }
        }
        let name: String? = options.writesEmptyLinkNames ? "" : nil
        let fileSize = children.reduce(UInt64(0)) { $0 + $1.fileSize }
        let data = UnixFSData(type: .file, fileSize: fileSize, blockSizes: children.map(\.fileSize))
        let node = PBNode(links: children.map { PBLink(hash: $0.cid, name: name, tsize: $0.cumulativeSize) }, data: data.bytes)
        let bytes = node.bytes
        let cid = PBNode.cid(of: bytes, version: options.cidVersion)
        try sink(cid, bytes)
        let below = children.reduce(UInt64(0)) { $0 + $1.cumulativeSize }
        return UnixFSImporter.Entry(cid: cid, fileSize: fileSize, cumulativeSize: UInt64(bytes.count) + below)
    }
}
