import IPLD
import Multiformats

extension Blockstore {
    /// Blocks stored per transaction while importing.
    public static let importBatchSize = 64

    /// Imports a file as a UnixFS DAG (IPLD's Kubo-compatible importer, ipfs/specs `unixfs.md`)
    /// and pins its root; returns the root CID.
    ///
    /// Blocks go in batches of ``importBatchSize`` per transaction without a second hash (the
    /// importer built each CID by hashing its bytes), all under ``writingBlocks(_:)``: they are
    /// pinned only at the end, and no garbage collection, in this process or another, may take
    /// them meanwhile. `read` returns up to the asked number of bytes, fewer only at the end.
    public func importFile(
        read: (Int) throws -> [UInt8], options: UnixFSImporter.Options, progress: ((UInt64) -> Void)? = nil
    ) throws -> CID {
        try writingBlocks {
            var pending: [(cid: CID, bytes: [UInt8])] = []
            let root = try UnixFSImporter(options: options).importFile(read: read, progress: progress) { cid, bytes in
                pending.append((cid, bytes))
                if pending.count >= Self.importBatchSize {
                    try putVerified(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            try putVerified(pending)
            try pin(root: root.cid)
            return root.cid
        }
    }
}
