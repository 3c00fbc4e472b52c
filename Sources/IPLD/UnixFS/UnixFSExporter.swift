import Multiformats

/// Reads UnixFS DAGs back: streams a file's bytes, lists and resolves directories.
///
/// Implements ipfs/specs `src/unixfs.md` ("Reading"). Every block is checked against its CID's
/// hash before it is used, and the DAG is checked as it is walked: a node may not link to one
/// of its ancestors, the walk may not go deeper than ``maxDepth``, a File node's `blocksizes`
/// must match its links and the bytes each child really yields, and `filesize` must add up.
/// Unknown node types, HAMT shards and symlinks are refused when reading a file.
public struct UnixFSExporter {
    /// The deepest file DAG accepted (Kubo's 256 KiB × 174-link layout is 4 deep at 200 GiB).
    public static let maxDepth = 32

    /// A named entry of a directory.
    public struct DirectoryEntry: Hashable, Sendable {
        /// The entry name.
        public var name: String
        /// The entry's CID.
        public var cid: CID
        /// The cumulative size from the link, if given.
        public var tsize: UInt64?
    }

    /// Fetches a block's bytes by CID; throw if it is unavailable.
    public typealias BlockSource = (CID) throws -> [UInt8]

    /// A block as a ``CheckedBlockSource`` returns it.
    public struct SourcedBlock {
        /// The block's bytes.
        public var bytes: [UInt8]
        /// Whether the source has itself just hashed `bytes` to the CID it was asked for (a
        /// Bitswap session rebuilds every received block's CID from its bytes); the exporter then
        /// does not hash them a second time.
        public var isVerified: Bool

        /// A block; `isVerified` only if its hash was checked against the requested CID.
        public init(bytes: [UInt8], isVerified: Bool) {
            self.bytes = bytes
            self.isVerified = isVerified
        }
    }

    /// Fetches a block by CID, saying whether its hash is already verified.
    public typealias CheckedBlockSource = (CID) throws -> SourcedBlock

    private let blockSource: CheckedBlockSource
    /// Whether blocks are checked against their CIDs; only tests turn this off, to build cycles.
    var verifiesHashes = true

    /// Creates an exporter reading blocks from `blockSource`; it verifies every block.
    public init(blockSource: @escaping BlockSource) {
        self.blockSource = { cid in SourcedBlock(bytes: try blockSource(cid), isVerified: false) }
    }

    /// Creates an exporter reading blocks from `blockSource`; it verifies every block the source
    /// has not marked verified.
    public init(checkedBlockSource: @escaping CheckedBlockSource) {
        self.blockSource = checkedBlockSource
    }

    /// Fetches a block and checks it against its CID.
    public func block(_ cid: CID) throws -> [UInt8] {
        let sourced = try blockSource(cid)
        let bytes = sourced.bytes
        if verifiesHashes && !sourced.isVerified {
            guard cid.multihash.code == .sha2_256 || cid.multihash.code == .sha2_512 || cid.multihash.code == .identity else {
                throw IPLDError(.unsupportedCID, "cannot verify hash function \(cid.multihash.code) of \(cid)")
            }
            guard cid.multihash.matches(bytes) else {
                throw IPLDError(.hashMismatch, "block does not hash to \(cid)")
            }
        }
        return bytes
    }

    /// Streams the bytes of the file at `root` to `sink`, in order.
    ///
    /// - Returns: the number of bytes written.
    /// - Throws: ``IPLDError`` `.hashMismatch`, `.invalidDAG`, `.limitExceeded`,
    ///   `.unsupportedCID`, or whatever the block source or sink throws.
    @discardableResult
    public func exportFile(root: CID, sink: ([UInt8]) throws -> Void) throws -> UInt64 {
        var ancestors: Set<CID> = []
        return try export(root, expectedSize: nil, depth: 0, ancestors: &ancestors, sink: sink)
    }

    /// Reads the whole file at `root` into memory (for small files).
    public func readFile(root: CID) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try exportFile(root: root) { bytes.append(contentsOf: $0) }
        return bytes
    }

    private func export(
        _ cid: CID, expectedSize: UInt64?, depth: Int, ancestors: inout Set<CID>, sink: ([UInt8]) throws -> Void
    ) throws -> UInt64 {
        guard depth <= Self.maxDepth else {
            throw IPLDError(.limitExceeded, "file DAG deeper than \(Self.maxDepth)")
        }
        guard ancestors.insert(cid).inserted else {
            throw IPLDError(.invalidDAG, "\(cid) links to itself through its children (cycle)")
        }
        defer { ancestors.remove(cid) }
        let bytes = try block(cid)
        switch cid.codec {
        case .raw:
            try checkSize(UInt64(bytes.count), expectedSize, cid)
            try sink(bytes)
            return UInt64(bytes.count)
        case .dagPB:
            break
        default:
            throw IPLDError(.unsupportedCID, "\(cid) has codec \(cid.codec), not raw or dag-pb")
        }
        // The Data section is read in place: a leaf's file bytes are copied once, by UnixFSData.
        let node = try PBNode.parts(parsing: bytes)
        guard let dataBytes = node.data else {
            throw IPLDError(.invalidDAG, "\(cid) has no UnixFS Data")
        }
        let unixfs = try UnixFSData(parsing: dataBytes)
        guard unixfs.type == .file || unixfs.type == .raw else {
            throw IPLDError(.invalidDAG, "\(cid) is a UnixFS \(unixfs.type), not a file")
        }
        guard unixfs.blockSizes.count == node.links.count else {
            throw IPLDError(.invalidDAG, "\(cid) has \(node.links.count) links but \(unixfs.blockSizes.count) blocksizes")
        }
        let inline = UInt64(unixfs.data?.count ?? 0)
        var total = inline
        for size in unixfs.blockSizes {
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { throw IPLDError(.invalidDAG, "\(cid) blocksizes overflow") }
            total = sum
        }
        if let fileSize = unixfs.fileSize, fileSize != total {
            throw IPLDError(.invalidDAG, "\(cid) filesize \(fileSize) is not data + blocksizes = \(total)")
        }
        try checkSize(total, expectedSize, cid)
        if let data = unixfs.data, !data.isEmpty { try sink(data) }
        for (link, size) in zip(node.links, unixfs.blockSizes) {
            let written = try export(link.hash, expectedSize: size, depth: depth + 1, ancestors: &ancestors, sink: sink)
            guard written == size else {
                throw IPLDError(.invalidDAG, "\(link.hash) yielded \(written) bytes, its parent says \(size)")
            }
        }
        return total
    }

    private func checkSize(_ actual: UInt64, _ expected: UInt64?, _ cid: CID) throws {
        if let expected, expected != actual {
            throw IPLDError(.invalidDAG, "\(cid) holds \(actual) file bytes, its parent says \(expected)")
        }
    }

    /// The entries of the UnixFS directory at `cid`, in link order.
    ///
    /// - Throws: ``IPLDError`` `.invalidDAG` if it is not a plain directory (HAMT shards are not
    ///   supported yet and are refused with `.unsupportedValue`).
    public func listDirectory(_ cid: CID) throws -> [DirectoryEntry] {
        guard cid.codec == .dagPB else {
            throw IPLDError(.invalidDAG, "\(cid) is not a dag-pb directory")
        }
        let node = try PBNode(parsing: block(cid))
        let unixfs = try UnixFSData(parsing: node.data ?? [])
        if unixfs.type == .hamtShard {
            throw IPLDError(.unsupportedValue, "\(cid) is a HAMT-sharded directory, which is not supported")
        }
        guard unixfs.type == .directory else {
            throw IPLDError(.invalidDAG, "\(cid) is a UnixFS \(unixfs.type), not a directory")
        }
        return try node.links.map { link in
            guard let name = link.name, !name.isEmpty else {
                throw IPLDError(.invalidDAG, "directory \(cid) has an unnamed link")
            }
            return DirectoryEntry(name: name, cid: link.hash, tsize: link.tsize)
        }
    }

    /// Resolves a `/`-separated path below the directory `root` (`a/b/file.txt`).
    public func resolve(path: String, from root: CID) throws -> CID {
        var current = root
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let entry = try listDirectory(current).first(where: { $0.name == component }) else {
                throw IPLDError(.notFound, "no entry \"\(component)\" in \(current)")
            }
            current = entry.cid
        }
        return current
    }
}
