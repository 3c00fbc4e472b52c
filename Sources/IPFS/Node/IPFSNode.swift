import Foundation
import IPLD
import LibP2P
import Logging
import Multiformats
import Synchronization

/// A small IPFS peer on a libp2p host: a durable ``Blockstore`` in the node's home, Bitswap
/// 1.2.0 client and server, UnixFS import and export (IPLD's Kubo-compatible importer), and
/// CAR v1 import and export. This is the facade the CLI uses.
public final class IPFSNode: Sendable {
    /// The block store (`<home>/blocks/`).
    public let blockstore: Blockstore
    /// The Bitswap engine.
    public let bitswap: Bitswap
    /// The libp2p host.
    public let host: LibP2P.Host
    let logger: Logger

    /// Opens the node's block store in `home` and creates the Bitswap engine on `host`.
    public init(home: URL, host: LibP2P.Host, logger: Logger = Logger(label: "p2pchat.ipfs")) throws {
        self.blockstore = try Blockstore(home: home, logger: logger)
        self.bitswap = Bitswap(host: host, blockstore: blockstore, logger: logger)
        self.host = host
        self.logger = logger
    }

    /// Serves the block store over Bitswap. Call before connecting to peers (go only opens
    /// Bitswap streams to peers whose Identify listed the protocol).
    public func register() {
        bitswap.register()
    }

    // MARK: Import

    /// The importer settings for a CID version: Kubo 0.22's `ipfs add` defaults; CIDv1 implies raw
    /// leaves unless `rawLeaves` says otherwise (libp2p.md §7).
    public static func importOptions(cidVersion: CID.Version, rawLeaves: Bool?) -> UnixFSImporter.Options {
        UnixFSImporter.Options(cidVersion: cidVersion, rawLeaves: rawLeaves ?? (cidVersion == .v1))
    }

    /// Imports a file as a UnixFS DAG into the store and pins it; returns the root CID (the same
    /// as Kubo's `ipfs add` with the same settings).
    ///
    /// - Throws: ``IPFSError`` `.fileFailed`, `.storageFailed`; IPLD errors for bad options
    ///   (raw leaves with CIDv0).
    public func add(file: URL, cidVersion: CID.Version = .v0, rawLeaves: Bool? = nil, progress: ((UInt64) -> Void)? = nil) throws -> CID {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: file)
        } catch {
            throw IPFSError(.fileFailed, "cannot open \(file.path)", underlying: error)
        }
        defer { try? handle.close() }
        return try add(read: { maxCount in
            do {
                return try handle.read(upToCount: maxCount).map { [UInt8]($0) } ?? []
            } catch {
                throw IPFSError(.fileFailed, "cannot read \(file.path)", underlying: error)
            }
        }, cidVersion: cidVersion, rawLeaves: rawLeaves, progress: progress)
    }

    /// Imports in-memory bytes as a UnixFS file and pins it.
    public func add(bytes: [UInt8], cidVersion: CID.Version = .v0, rawLeaves: Bool? = nil) throws -> CID {
        var offset = 0
        return try add(read: { maxCount in
            let end = min(bytes.count, offset + maxCount)
            defer { offset = end }
            return Array(bytes[offset..<end])
        }, cidVersion: cidVersion, rawLeaves: rawLeaves, progress: nil)
    }

    private func add(read: (Int) throws -> [UInt8], cidVersion: CID.Version, rawLeaves: Bool?, progress: ((UInt64) -> Void)?) throws -> CID {
        try blockstore.importFile(read: read, options: Self.importOptions(cidVersion: cidVersion, rawLeaves: rawLeaves), progress: progress)
    }

    // MARK: Fetch and export

    /// Dials `peers`, fetches the DAG under `cid` over Bitswap and, once every block is
    /// stored, pins it.
    public func fetch(
        cid: CID, from peers: [Multiaddr], options: BitswapSessionState.Options = .init(),
        progress: (@Sendable (BitswapSession.Progress) -> Void)? = nil,
        stored: (@Sendable ([(cid: CID, bytes: [UInt8])]) -> Void)? = nil
    ) async throws -> BitswapSession.Report {
        var peerIDs: [PeerID] = []
        var lastError: (any Error)?
        for address in peers {
            do {
                let connection = try await host.dial(address)
                if !peerIDs.contains(connection.remotePeer) { peerIDs.append(connection.remotePeer) }
            } catch {
                logger.warning("cannot dial a peer", metadata: ["address": "\(address)", "reason": "\(error)"])
                lastError = error
            }
        }
        guard !peerIDs.isEmpty || peers.isEmpty else {
            throw IPFSError(.peerUnavailable, "none of the \(peers.count) peers could be dialed", underlying: lastError)
        }
        // Fetched under the writers lock, so no collection takes the blocks before they are
        // pinned; pinned once complete. A fetch that fails leaves what it got unpinned (a
        // retry finds it; the next collection frees it), not a pin of a DAG it does not have.
        return try await blockstore.writingBlocks {
            let report = try await bitswap.fetch(root: cid, from: peerIDs, options: options, progress: progress, stored: stored)
            try blockstore.pin(root: cid)
            return report
        }
    }

    /// Fetches the UnixFS file `cid` from `peers` (see ``fetch(cid:from:options:progress:)``) and
    /// writes it to `file`, verifying every block on the way.
    ///
    /// The file is written while the fetch runs: an export thread follows the fetch, taking
    /// each block as soon as it is committed to the store, so memory stays bounded whatever
    /// the file size and no second pass over the store is needed. Blocks the fetch has just
    /// received and hashed are handed to the export in memory (``FetchedBlocks``), so they are
    /// neither read back nor hashed again; others are read from the store and verified. The
    /// file appears under its name only once the fetch has completed (every block committed)
    /// and the export has verified and written every byte.
    ///
    /// `progress` reports the fetch (blocks and bytes received, wants in flight); `written`
    /// reports the file: bytes written so far and, once the root block is read, the file's
    /// size from its UnixFS `filesize`.
    public func get(
        cid: CID, from peers: [Multiaddr], to file: URL, options: BitswapSessionState.Options = .init(),
        progress: (@Sendable (BitswapSession.Progress) -> Void)? = nil,
        written: (@Sendable (_ bytes: UInt64, _ fileSize: UInt64?) -> Void)? = nil
    ) async throws -> BitswapSession.Report {
        let fetchState = FetchState()
        let store = blockstore
        let fetched = FetchedBlocks()
        // Waits for blocks the fetch has not stored yet; fails once the fetch has ended without them.
        let source: @Sendable (CID) throws -> UnixFSExporter.SourcedBlock? = { cid in
            while true {
                let seen = store.commits.current
                if let bytes = fetched.take(cid.multihash) { return .init(bytes: bytes, isVerified: true) }
                if let bytes = try store.getUnverified(cid) {
                    fetched.readFromStore(cid.multihash)
                    return .init(bytes: bytes, isVerified: false)
                }
                switch fetchState.outcome {
                case .running:
                    store.commits.wait(after: seen, timeout: Self.exportPollInterval)
                case .completed:
                    return nil
                case .failed(let error):
                    throw error
                }
            }
        }
        return try await withThrowingTaskGroup(of: BitswapSession.Report?.self) { group in
            group.addTask {
                _ = try await Self.onThread { try self.export(cid: cid, to: file, source: source, written: written) }
                return nil
            }
            group.addTask {
                do {
                    let report = try await self.fetch(cid: cid, from: peers, options: options, progress: progress) { blocks in
                        fetched.add(blocks)
                    }
                    fetchState.finish(.completed)
                    store.commits.wakeAll()
                    // While the export writes its last blocks and syncs the file.
                    try? await store.makeFetchedDurable()
                    return report
                } catch {
                    fetchState.finish(.failed(error))
                    store.commits.wakeAll()
                    throw error
                }
            }
            var report: BitswapSession.Report?
            do {
                while let result = try await group.next() {
                    if let result { report = result }
                }
            } catch {
                // The export failed (bad DAG, disk): stop the fetch; or the fetch failed.
                group.cancelAll()
                fetchState.finish(.failed(error))
                store.commits.wakeAll()
                while (try? await group.next()) != nil {}
                throw error
            }
            guard let report else { fatalError("the fetch task returned no report") }
            return report
        }
    }

    /// How long an export waiting for a block sleeps before looking again (commits wake it sooner).
    static let exportPollInterval: Duration = .milliseconds(100)

    /// Blocks a fetch has received, hashed and committed, held for the export that follows it.
    ///
    /// Bounded by ``capacity`` bytes: when the export lags further behind, blocks are not kept
    /// and the export reads them from the store (verifying them) instead. Each block is taken
    /// once; a block the export has already read from the store (committed, but handed over
    /// only after the export looked) is not kept when it arrives.
    final class FetchedBlocks: Sendable {
        /// The most block bytes held at once (a quarter of the fetch's default 128 wants).
        static let capacity = 32 << 20
        private struct State {
            var blocks: [Multihash: [UInt8]] = [:]
            var bytes = 0
            /// Blocks the export read from the store before they were handed over here.
            var readFromStore: Set<Multihash> = []
        }
        private let state = Mutex(State())

        /// Keeps `blocks` while there is room, except those the export already has.
        func add(_ blocks: [(cid: CID, bytes: [UInt8])]) {
            state.withLock { state in
                for block in blocks {
                    guard state.readFromStore.remove(block.cid.multihash) == nil else { continue }
                    guard state.bytes + block.bytes.count <= Self.capacity else { continue }
                    guard state.blocks.updateValue(block.bytes, forKey: block.cid.multihash) == nil else { continue }
                    state.bytes += block.bytes.count
                }
            }
        }

        /// The export read the block with `key` from the store: drop a copy held here, or skip
        /// it when it is handed over later.
        func readFromStore(_ key: Multihash) {
            state.withLock { state in
                if let bytes = state.blocks.removeValue(forKey: key) {
                    state.bytes -= bytes.count
                } else {
                    state.readFromStore.insert(key)
                }
            }
        }

        /// The bytes held (tests).
        var heldBytes: Int { state.withLock { $0.bytes } }

        /// Removes and returns the block with `key`, if held.
        func take(_ key: Multihash) -> [UInt8]? {
            state.withLock { state in
                guard let bytes = state.blocks.removeValue(forKey: key) else { return nil }
                state.bytes -= bytes.count
                return bytes
            }
        }
    }

    /// Where a fetch that an export follows stands.
    final class FetchState: Sendable {
        enum Outcome: Sendable {
            case running
            case completed
            case failed(any Error)
        }
        private let state = Mutex(Outcome.running)

        var outcome: Outcome { state.withLock { $0 } }

        /// Records the end of the fetch (the first end recorded wins).
        func finish(_ outcome: Outcome) {
            state.withLock { state in
                if case .running = state { state = outcome }
            }
        }
    }

    /// Runs blocking work (a synchronous export that waits for blocks) on its own thread, off
    /// the cooperative pool.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = "p2pchat.ipfs.export"
            thread.start()
        }
    }

    /// Writes the UnixFS file `cid` from the store to `file` (a temporary file renamed into
    /// place, so a failed export leaves nothing half-written). Returns the byte count.
    @discardableResult
    public func export(cid: CID, to file: URL) throws -> UInt64 {
        let store = blockstore
        return try export(cid: cid, to: file) { cid in try store.getUnverified(cid).map { .init(bytes: $0, isVerified: false) } }
    }

    private func export(
        cid: CID, to file: URL, source: @escaping @Sendable (CID) throws -> UnixFSExporter.SourcedBlock?,
        written: (@Sendable (_ bytes: UInt64, _ fileSize: UInt64?) -> Void)? = nil
    ) throws -> UInt64 {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
        do {
            let output = try OutputFile(path: temporary.path)
            var fileSize: UInt64?
            var total: UInt64 = 0
            let reportingSource: (CID) throws -> UnixFSExporter.SourcedBlock? = { requested in
                let block = try source(requested)
                if requested == cid, let block, written != nil {
                    fileSize = (try? PBNode(parsing: block.bytes)).flatMap { $0.data }.flatMap { try? UnixFSData(parsing: $0) }?.fileSize
                    if fileSize == nil, requested.codec == .raw { fileSize = UInt64(block.bytes.count) }
                }
                return block
            }
            let count = try exportFile(root: cid, source: reportingSource) { chunk in
                try output.write(chunk)
                total += UInt64(chunk.count)
                written?(total, fileSize)
            }
            try output.finish()
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: temporary, to: file)
            return count
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? IPFSError { throw error }
            throw IPFSError(.fileFailed, "cannot export \(cid) to \(file.path)", underlying: error)
        }
    }

    /// The UnixFS file `cid` read from the store into memory (small files).
    public func cat(cid: CID) throws -> [UInt8] {
        let store = blockstore
        var bytes: [UInt8] = []
        _ = try exportFile(root: cid, source: { cid in try store.getUnverified(cid).map { .init(bytes: $0, isVerified: false) } }) {
            bytes.append(contentsOf: $0)
        }
        return bytes
    }

    /// Streams the UnixFS file `root` to `sink` through the verifying exporter.
    ///
    /// `source` returns stored bytes unverified, or bytes a fetch has just verified, or `nil`
    /// when absent: the exporter checks every block not marked verified against its CID. On a
    /// mismatch the block is read again through
    /// ``Blockstore/get(_:)``, which removes it from the store and reports it as corrupt.
    private func exportFile(
        root: CID, source: @escaping (CID) throws -> UnixFSExporter.SourcedBlock?, sink: ([UInt8]) throws -> Void
    ) throws -> UInt64 {
        var lastRequested: CID?
        let exporter = UnixFSExporter(checkedBlockSource: { cid in
            lastRequested = cid
            guard let block = try source(cid) else {
                throw IPFSError(.blockNotFound, "block \(cid) is not in the store")
            }
            return block
        })
        do {
            return try exporter.exportFile(root: root, sink: sink)
        } catch let error as IPLDError where error.code == .hashMismatch {
            if let lastRequested { _ = try blockstore.get(lastRequested) }
            throw error
        }
    }

    // MARK: CAR

    /// Writes the DAG under `root` as a CAR v1 file (blocks in depth-first link order, each
    /// once). Returns the number of blocks.
    @discardableResult
    public func exportCAR(root: CID, to file: URL) throws -> Int {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw IPFSError(.fileFailed, "cannot create \(file.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: file)
            defer { try? handle.close() }
            let writer = try CARWriter(roots: [root]) { bytes in try handle.write(contentsOf: bytes) }
            var seen = Set<Multihash>()
            var stack = [root]
            while let cid = stack.popLast() {
                guard seen.insert(cid.multihash).inserted else { continue }
                guard let bytes = try blockstore.get(cid) else {
                    throw IPFSError(.blockNotFound, "block \(cid) under \(root) is not in the store")
                }
                try writer.write(cid: cid, bytes: bytes)
                stack.append(contentsOf: try BlockLinks.links(of: cid, bytes: bytes).reversed())
            }
            try handle.synchronize()
            return seen.count
        } catch let error as IPFSError {
            throw error
        } catch {
            throw IPFSError(.fileFailed, "cannot export \(root) as CAR to \(file.path)", underlying: error)
        }
    }

    /// Reads a CAR v1 file into the store (every block verified against its CID) and pins its
    /// roots; returns the roots.
    @discardableResult
    public func importCAR(from file: URL) throws -> [CID] {
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            var reader = try CARReader(read: { maxCount in try handle.read(upToCount: maxCount).map { [UInt8]($0) } ?? [] })
            return try blockstore.writingBlocks {
                var pending: [(cid: CID, bytes: [UInt8])] = []
                while let block = try reader.next() {
                    pending.append((block.cid, block.bytes))
                    if pending.count >= Blockstore.importBatchSize {
                        try blockstore.putMany(pending)
                        pending.removeAll(keepingCapacity: true)
                    }
                }
                try blockstore.putMany(pending)
                for root in reader.header.roots { try blockstore.pin(root: root) }
                return reader.header.roots
            }
        } catch let error as IPFSError {
            throw error
        } catch let error as IPLDError {
            throw IPFSError(.malformedInput, "invalid CAR file \(file.path): \(error.message)", underlying: error)
        } catch {
            throw IPFSError(.fileFailed, "cannot import CAR file \(file.path)", underlying: error)
        }
    }
}
