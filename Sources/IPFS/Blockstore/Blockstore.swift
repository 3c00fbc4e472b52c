import Foundation
import GRDB
import Logging
import Multiformats
import Synchronization

/// The node's durable block store: content-addressed blocks keyed by multihash, so the CIDv0
/// and CIDv1 of the same bytes (and the same bytes under different codecs) share one block.
///
/// Storage layout: one SQLite file, `<directory>/blocks.sqlite` (GRDB, WAL,
/// `synchronous = FULL`), with table `block(multihash PRIMARY KEY, size, data, segment,
/// offset)`, table `segment(id, length, live)` and table `pin(cid PRIMARY KEY)` of recursively
/// pinned roots. Blocks under ``segmentThreshold`` live in their row; larger ones (file
/// chunks) are appended to segment files (``SegmentFiles``, `<directory>/segments/`) and their
/// row holds where: the bytes are written once, not to the WAL and again to the database.
/// Every write is one SQLite transaction, and a segment is only appended to inside it, past
/// its committed length, so a crash leaves each block either fully stored or absent (the
/// atomicity that flatfs gets from write-temp-then-rename); a durable write syncs the segment
/// before it commits. Hashes are verified on `put` and again on every `get`; a stored block
/// that no longer matches its hash (or whose segment is gone) is deleted and reported, never
/// returned.
/// Bitswap serves blocks through the unverified read (every receiver verifies them); storing a
/// block that is already present compares the bytes and replaces a corrupt copy.
///
/// Garbage collection keeps every block reachable from a pinned root through DAG-PB and
/// DAG-CBOR links (``BlockLinks``) and deletes the rest (Kubo `ipfs repo gc` semantics).
public final class Blockstore: Sendable {
    /// The largest block accepted, 2 MiB (libp2p.md §6: keep blocks ≤ 2 MiB; Kubo's limit).
    public static let maxBlockSize = 2 << 20
    /// The SQLite page size of new stores, SQLite's default 4 KiB: large blocks live in
    /// segments, so the database holds rows and small blocks, and a commit of a fetched
    /// message's rows writes a few small pages to the log. (Stores made before segments
    /// existed keep the 64 KiB pages they were created with.)
    static let pageSize = 4096
    /// The database file name inside the store directory.
    public static let databaseFileName = "blocks.sqlite"
    /// Blocks of this many bytes or more go to segment files; smaller ones (DAG nodes, mailbox
    /// envelopes) stay in their SQLite row.
    public static let segmentThreshold = 16 << 10
    /// A segment takes appends until it holds this many bytes (256 MiB).
    static let defaultSegmentLimit: Int64 = 256 << 20
    /// Garbage collection rewrites a full segment whose live bytes fell below this fraction.
    static let compactionThreshold = 0.5

    /// What a garbage collection removed.
    public struct GarbageCollection: Hashable, Sendable {
        /// Blocks deleted.
        public var removedBlocks: Int
        /// Bytes of block data deleted.
        public var freedBytes: UInt64
        /// Segments rewritten because most of their bytes were dead.
        public var compactedSegments = 0
        /// Whether nothing was collected because block writers (maybe in another process) were
        /// at work; collect again later.
        public var deferredForWriters = false
    }

    /// The directory holding the database.
    public let directory: URL
    let pool: DatabasePool
    let segments: SegmentFiles
    /// A segment takes appends until it holds this many bytes.
    let segmentLimit: Int64
    let logger: Logger
    /// Bumped after every committed write of blocks.
    let commits = CommitSignal()
    /// Segments appended to without a sync (by fetches), for ``makeFetchedDurable()``.
    private let unsyncedSegments = Mutex(Set<Int64>())
    /// Bytes of blocks stored without a sync since the database file's cached pages were
    /// last released.
    private let bytesSinceRelease = Mutex(0)
    /// How many fetched bytes are stored between releases of the database file's clean cached
    /// pages.
    static let cacheReleaseInterval = 32 << 20

    /// Opens (creating if needed) the store in `directory`.
    public convenience init(directory: URL, logger: Logger = Logger(label: "p2pchat.ipfs.blockstore")) throws {
        try self.init(directory: directory, logger: logger, segmentLimit: Self.defaultSegmentLimit)
    }

    /// Opens the store with another segment size (tests: several segments from little data)
    /// and, for tests, a hook run before each segment read.
    init(
        directory: URL, logger: Logger = Logger(label: "p2pchat.ipfs.blockstore"), segmentLimit: Int64,
        beforeSegmentRead: (@Sendable (Int64) -> Void)? = nil
    ) throws {
        self.directory = directory
        self.logger = logger
        self.segmentLimit = segmentLimit
        segments = SegmentFiles(store: directory, beforeRead: beforeSegmentRead)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                // Only takes effect while the file is still empty.
                try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
            configuration.label = "blockstore"
            // A node and a CLI command may write the same store: wait for the other's commit.
            configuration.busyMode = .timeout(30)
            pool = try DatabasePool(path: directory.appendingPathComponent(Self.databaseFileName).path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw IPFSError(.storageFailed, "cannot open the block store in \(directory.path)", underlying: error)
        }
    }

    /// Opens the store of a node home: `<home>/blocks/`.
    public convenience init(home: URL, logger: Logger = Logger(label: "p2pchat.ipfs.blockstore")) throws {
        try self.init(directory: home.appendingPathComponent("blocks", isDirectory: true), logger: logger)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE block (
                    multihash BLOB PRIMARY KEY NOT NULL,
                    size INTEGER NOT NULL,
                    data BLOB NOT NULL
                );
                CREATE TABLE pin (
                    cid BLOB PRIMARY KEY NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2 segments") { db in
            // Rows of blocks in a segment keep an empty `data`.
            try db.execute(sql: """
                ALTER TABLE block ADD COLUMN segment INTEGER;
                ALTER TABLE block ADD COLUMN offset INTEGER;
                CREATE INDEX block_by_segment ON block (segment) WHERE segment IS NOT NULL;
                CREATE TABLE segment (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    length INTEGER NOT NULL,
                    live INTEGER NOT NULL
                );
                """)
        }
        return migrator
    }

    /// Closes the database; later calls fail.
    public func close() throws {
        do { try pool.close() } catch {
            throw IPFSError(.storageFailed, "cannot close the block store", underlying: error)
        }
    }

    // MARK: Blocks

    /// Checks that `bytes` may be stored as `cid`: size within ``maxBlockSize`` and the hash
    /// matches (sha2-256, sha2-512 or identity).
    public static func verify(_ bytes: [UInt8], as cid: CID) throws {
        guard bytes.count <= maxBlockSize else {
            throw IPFSError(.limitExceeded, "block of \(bytes.count) bytes exceeds \(maxBlockSize)")
        }
        switch cid.multihash.code {
        case .sha2_256, .sha2_512, .identity: break
        default: throw IPFSError(.unsupportedCID, "cannot verify hash function \(cid.multihash.code) of \(cid)")
        }
        guard cid.multihash.matches(bytes) else {
            throw IPFSError(.hashMismatch, "bytes do not hash to \(cid)")
        }
    }

    /// Stores a block after verifying its hash; storing a block already present is a no-op.
    public func put(_ bytes: [UInt8], for cid: CID) throws {
        try putMany([(cid, bytes)])
    }

    /// Stores several blocks in one transaction, verifying every hash first (all or nothing).
    public func putMany(_ blocks: [(cid: CID, bytes: [UInt8])]) throws {
        for block in blocks { try Self.verify(block.bytes, as: block.cid) }
        try putVerified(blocks)
    }

    /// Stores blocks whose hashes the caller has just checked (a Bitswap session rebuilds each
    /// received block's CID from its bytes), in one transaction, without hashing them again.
    /// Sizes are still checked.
    ///
    /// `committed` runs after the transaction has committed and before readers waiting for
    /// commits are woken.
    ///
    /// With `durable` false the commit is not synced to disk on its own (SQLite
    /// `synchronous = NORMAL` for this transaction, and the segment is not synced): a power
    /// cut may lose the blocks, or leave a row whose segment bytes never reached the disk,
    /// which ``get(_:)`` finds by its hash and removes (as every Bitswap receiver refuses it);
    /// the next durable write syncs the segment and the database too. For blocks that can be
    /// fetched again (a Bitswap fetch), which saves two syncs per received message. Such a
    /// stream of blocks also lets go of the store's page cache as it goes (every
    /// ``cacheReleaseInterval`` bytes, `POSIX_FADV_DONTNEED` on the database and the segments
    /// fetches appended to, whose write-back each append starts: only pages already on disk are
    /// dropped),
    /// so a large fetch does not grow the page cache by its own size.
    func putVerified(_ blocks: [(cid: CID, bytes: [UInt8])], durable: Bool = true, committed: () -> Void = {}) throws {
        guard !blocks.isEmpty else { return }
        try Self.checkSizes(blocks)
        defer { commits.committed() }
        try storage("put") {
            try pool.writeWithoutTransaction { db in try insert(blocks, durable: durable, db: db) }
        }
        committed()
        if !durable { releaseCachedPagesPeriodically(adding: blocks.reduce(0) { $0 + $1.bytes.count }) }
    }

    /// ``putVerified(_:durable:committed:)`` for a Bitswap fetch (not durable): the write runs
    /// on the database's writer queue while the calling task is suspended, so a commit, an
    /// automatic checkpoint or its sync never blocks a thread of the cooperative pool that
    /// stream readers and decryption need.
    func putFetched(_ blocks: [(cid: CID, bytes: [UInt8])], committed: @Sendable () -> Void) async throws {
        guard !blocks.isEmpty else { return }
        try Self.checkSizes(blocks)
        defer { commits.committed() }
        do {
            try await pool.writeWithoutTransaction { db in try self.insert(blocks, durable: false, db: db) }
        } catch let error as IPFSError {
            throw error
        } catch {
            throw IPFSError(.storageFailed, "block store put failed", underlying: error)
        }
        committed()
        releaseCachedPagesPeriodically(adding: blocks.reduce(0) { $0 + $1.bytes.count })
    }

    /// Makes the blocks that fetches stored without a sync durable: syncs the segments they
    /// were appended to, then copies what the write-ahead log holds into the database (a
    /// passive checkpoint, which syncs it), on the writer queue, so that closing the store
    /// later has little left to do. A fetch calls it as it ends, while its export is still
    /// finishing.
    func makeFetchedDurable() async throws {
        let unsynced = unsyncedSegments.withLock { ids in
            defer { ids.removeAll() }
            return ids
        }
        do {
            _ = try await pool.writeWithoutTransaction { db in
                // The segments first: a checkpoint may make rows durable that point into them.
                for id in unsynced.sorted() { try segments.sync(id) }
                try db.checkpoint(.passive)
            }
        } catch {
            throw IPFSError(.storageFailed, "block store sync failed", underlying: error)
        }
    }

    private static func checkSizes(_ blocks: [(cid: CID, bytes: [UInt8])]) throws {
        for block in blocks where block.bytes.count > maxBlockSize {
            throw IPFSError(.limitExceeded, "block of \(block.bytes.count) bytes exceeds \(maxBlockSize)")
        }
    }

    /// One transaction inserting `blocks` (a block already stored is compared and repaired).
    private func insert(_ blocks: [(cid: CID, bytes: [UInt8])], durable: Bool, db: Database) throws {
        if !durable { try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        defer { if !durable { try? db.execute(sql: "PRAGMA synchronous = FULL") } }
        var release = SegmentFiles.Release()
        try db.inTransaction(.immediate) {
            let insertInline = try db.cachedStatement(sql: "INSERT INTO block (multihash, size, data) VALUES (?, ?, ?)")
            var large: [(key: Data, bytes: [UInt8])] = []
            var seen = Set<Data>()
            for block in blocks {
                let key = Data(block.cid.multihash.bytes)
                guard seen.insert(key).inserted else { continue }
                if let stored = try storedLocation(key: key, db: db) {
                    guard try !isIntact(key: key, comparedWith: block.bytes, db: db) else { continue }
                    logger.warning("corrupt stored block replaced", metadata: ["multihash": "\(key.map { String(format: "%02x", $0) }.joined())"])
                    try deleteRow(key: key, location: stored, db: db, release: &release)
                }
                if block.bytes.count >= Self.segmentThreshold {
                    large.append((key, block.bytes))
                    continue
                }
                // Bound without an intermediate copy (SQLite copies the blob itself).
                try block.bytes.withUnsafeBytes { buffer in
                    let blob = buffer.isEmpty ? Data() : Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: buffer.baseAddress!), count: buffer.count, deallocator: .none)
                    try insertInline.execute(arguments: [key, buffer.count, blob])
                }
            }
            try dropEmptySegments(&release, db: db)
            try append(large, durable: durable, db: db)
            return .commit
        }
        segments.apply(release)
    }

    /// Appends large blocks to the open segment (a new one when it is full) and records them;
    /// inside the caller's write transaction, which is what serializes appends across
    /// processes. A durable append is synced before the transaction commits.
    private func append(_ blocks: [(key: Data, bytes: [UInt8])], durable: Bool, db: Database) throws {
        guard !blocks.isEmpty else { return }
        let total = Int64(blocks.reduce(0) { $0 + $1.bytes.count })
        var segment: (id: Int64, length: Int64)
        if let open = try Row.fetchOne(db, sql: "SELECT id, length FROM segment ORDER BY id DESC LIMIT 1"),
           (open["length"] as Int64) == 0 || (open["length"] as Int64) + total <= segmentLimit {
            segment = (open["id"], open["length"])
        } else {
            try db.execute(sql: "INSERT INTO segment (length, live) VALUES (0, 0)")
            segment = (db.lastInsertedRowID, 0)
            try segments.create(segment.id)
        }
        try segments.append(blocks.map(\.bytes), to: segment.id, at: segment.length, durable: durable)
        if !durable { unsyncedSegments.withLock { _ = $0.insert(segment.id) } }
        let insert = try db.cachedStatement(sql: "INSERT INTO block (multihash, size, data, segment, offset) VALUES (?, ?, x'', ?, ?)")
        var offset = segment.length
        for block in blocks {
            try insert.execute(arguments: [block.key, block.bytes.count, segment.id, offset])
            offset += Int64(block.bytes.count)
        }
        try db.execute(sql: "UPDATE segment SET length = length + ?, live = live + ? WHERE id = ?", arguments: [total, total, segment.id])
    }

    /// Where a stored block's bytes are.
    private enum Location {
        case inline
        case segment(id: Int64, offset: Int64, size: Int)

        /// From a row with columns `segment`, `offset` and `size`.
        init(_ row: Row) {
            if let id = row["segment"] as Int64? {
                self = .segment(id: id, offset: row["offset"], size: row["size"])
            } else {
                self = .inline
            }
        }
    }

    private func storedLocation(key: Data, db: Database) throws -> Location? {
        let select = try db.cachedStatement(sql: "SELECT segment, offset, size FROM block WHERE multihash = ?")
        return try Row.fetchOne(select, arguments: [key]).map(Location.init)
    }

    /// Whether the stored copy equals the verified `bytes` (Bitswap serves blocks without
    /// re-hashing them, so storing a block again is when a rotted copy is found). A byte
    /// comparison, no hash; a copy that cannot be read (segment missing or short) is not intact.
    private func isIntact(key: Data, comparedWith bytes: [UInt8], db: Database) throws -> Bool {
        do {
            return try storedBytes(key: key, db: db) == bytes
        } catch let error as IPFSError where error.code == .corruptBlock {
            return false
        }
    }

    /// Deletes a block's row and its share of its segment; its bytes become a hole to punch
    /// once the transaction has committed (``SegmentFiles/apply(_:)``).
    private func deleteRow(key: Data, location: Location, db: Database, release: inout SegmentFiles.Release) throws {
        try db.execute(sql: "DELETE FROM block WHERE multihash = ?", arguments: [key])
        guard case .segment(let id, let offset, let size) = location else { return }
        try db.execute(sql: "UPDATE segment SET live = live - ? WHERE id = ?", arguments: [size, id])
        release.holes.append(.init(segment: id, offset: offset, count: size))
    }

    /// Deletes the rows of the segments `release` punched holes in that hold no live block
    /// any more; their files are unlinked instead.
    private func dropEmptySegments(_ release: inout SegmentFiles.Release, db: Database) throws {
        for id in Set(release.holes.map(\.segment)) {
            let live = try Int64.fetchOne(db, sql: "SELECT live FROM segment WHERE id = ?", arguments: [id])
            guard let live, live <= 0 else { continue }
            try db.execute(sql: "DELETE FROM segment WHERE id = ?", arguments: [id])
            release.unlinked.insert(id)
        }
    }

    private func releaseCachedPagesPeriodically(adding count: Int) {
        let due = bytesSinceRelease.withLock { bytes -> Bool in
            bytes += count
            guard bytes >= Self.cacheReleaseInterval else { return false }
            bytes = 0
            return true
        }
        guard due else { return }
        FileSpace.dropCachedPages(atPath: directory.appendingPathComponent(Self.databaseFileName).path)
        // The segments fetches append to (each append started its write-back).
        for id in unsyncedSegments.withLock({ $0 }) { FileSpace.dropCachedPages(atPath: segments.path(of: id)) }
    }

    /// The block's bytes, verified against its hash, or `nil` if absent.
    ///
    /// - Throws: ``IPFSError`` `.corruptBlock` if the stored bytes no longer match (or their
    ///   segment is missing or short); the block has then been deleted (fetch it again).
    public func get(_ cid: CID) throws -> [UInt8]? {
        do {
            guard let bytes = try getUnverified(cid) else { return nil }
            if cid.multihash.matches(bytes) { return bytes }
        } catch let error as IPFSError where error.code == .corruptBlock {}
        return try removeIfCorrupt(cid)
    }

    /// A read found `cid` bad. Looks again under the write lock, where no delete, move
    /// (compaction) or repair can come between the row and its bytes: those free the old bytes
    /// (unlink, hole) only after their commit, so a read whose snapshot predates the commit can
    /// meet freed bytes under a row that no longer exists. Returns the bytes if they are good
    /// after all, `nil` if the block is gone; otherwise deletes it and throws.
    private func removeIfCorrupt(_ cid: CID) throws -> [UInt8]? {
        let key = Data(cid.multihash.bytes)
        enum Finding { case absent, intact([UInt8]), corrupt(String) }
        let (finding, release) = try storage("get") {
            try pool.write { db -> (Finding, SegmentFiles.Release) in
                var release = SegmentFiles.Release()
                guard let location = try storedLocation(key: key, db: db) else { return (.absent, release) }
                let reason: String
                do {
                    let bytes = try storedBytes(key: key, db: db) ?? []
                    if cid.multihash.matches(bytes) { return (.intact(bytes), release) }
                    reason = "does not match its hash"
                } catch let error as IPFSError where error.code == .corruptBlock {
                    reason = "is damaged (\(error.message))"
                }
                try deleteRow(key: key, location: location, db: db, release: &release)
                try dropEmptySegments(&release, db: db)
                return (.corrupt(reason), release)
            }
        }
        segments.apply(release)
        switch finding {
        case .absent: return nil
        case .intact(let bytes): return bytes
        case .corrupt(let reason):
            logger.error("corrupt block removed", metadata: ["cid": "\(cid)", "reason": "\(reason)"])
            throw IPFSError(.corruptBlock, "stored block \(cid) \(reason); it was removed")
        }
    }

    /// The stored bytes without the hash check, for a reader that checks them itself (the
    /// UnixFS exporter verifies every block it reads); on a mismatch it calls ``get(_:)``,
    /// which removes the corrupt block.
    ///
    /// - Throws: ``IPFSError`` `.corruptBlock` if the block's segment file is missing or too
    ///   short (``get(_:)`` then removes the block).
    func getUnverified(_ cid: CID) throws -> [UInt8]? {
        let key = Data(cid.multihash.bytes)
        let read = { try self.storage("get") { try self.pool.read { db in try self.storedBytes(key: key, db: db) } } }
        do {
            return try read()
        } catch let error as IPFSError where error.code == .corruptBlock {
            // Compaction may have moved the block and unlinked its old segment after this
            // read's snapshot was taken; a new snapshot sees where it went (or that it is gone).
            return try read()
        }
    }

    /// The bytes of the block with `key`, from its row or its segment; `nil` if absent.
    private func storedBytes(key: Data, db: Database) throws -> [UInt8]? {
        let statement = try db.cachedStatement(sql: "SELECT segment, offset, size, data FROM block WHERE multihash = ?")
        // A cursor row is not copied: the blob goes once from SQLite's buffer to the array. The
        // row is only valid while its cursor lives.
        let cursor = try Row.fetchCursor(statement, arguments: [key])
        return try withExtendedLifetime(cursor) {
            guard let row = try cursor.next() else { return nil }
            if let segment = row[0] as Int64? {
                return try segments.read(segment, at: row[1], count: row[2])
            }
            return try row.withUnsafeData(atIndex: 3) { data in data.map { [UInt8]($0) } ?? [] }
        }
    }

    /// Whether a block with `cid`'s multihash is stored.
    public func has(_ cid: CID) throws -> Bool {
        try size(of: cid) != nil
    }

    /// Which of `keys` are stored, in one read.
    public func presentKeys(of keys: [Multihash]) throws -> Set<Multihash> {
        guard !keys.isEmpty else { return [] }
        return try storage("has") {
            try pool.read { db in
                var present = Set<Multihash>()
                // Well under SQLite's limit on bound parameters per statement.
                for start in stride(from: 0, to: keys.count, by: 500) {
                    let chunk = keys[start..<min(start + 500, keys.count)]
                    let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let rows = try Data.fetchAll(
                        db, sql: "SELECT multihash FROM block WHERE multihash IN (\(placeholders))",
                        arguments: StatementArguments(chunk.map { Data($0.bytes) }))
                    for row in rows { if let key = try? Multihash(bytes: [UInt8](row)) { present.insert(key) } }
                }
                return present
            }
        }
    }

    /// The stored size of the block, or `nil` if absent.
    public func size(of cid: CID) throws -> Int? {
        let key = Data(cid.multihash.bytes)
        return try storage("size") {
            try pool.read { db in try Int.fetchOne(db, sql: "SELECT size FROM block WHERE multihash = ?", arguments: [key]) }
        }
    }

    /// Deletes the block; returns whether it was there. Pins are not checked.
    @discardableResult
    public func delete(_ cid: CID) throws -> Bool {
        let key = Data(cid.multihash.bytes)
        let (deleted, release) = try storage("delete") {
            try pool.write { db -> (Bool, SegmentFiles.Release) in
                var release = SegmentFiles.Release()
                guard let location = try storedLocation(key: key, db: db) else { return (false, release) }
                try deleteRow(key: key, location: location, db: db, release: &release)
                try dropEmptySegments(&release, db: db)
                return (true, release)
            }
        }
        segments.apply(release)
        return deleted
    }

    /// Bytes of block data stored.
    public func usage() throws -> UInt64 {
        try storage("usage") {
            try pool.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM block") ?? 0) }
        }
    }

    /// The number of blocks stored.
    public func count() throws -> Int {
        try storage("count") {
            try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0 }
        }
    }

    /// What a full verification found.
    public struct Verification: Hashable, Sendable {
        /// Blocks whose bytes hash to their key.
        public var intact: Int
        /// Blocks that did not and were removed (fetch or add them again).
        public var removed: [Multihash]
    }

    /// Hashes every stored block and removes those whose bytes no longer match (Kubo's
    /// `ipfs repo verify`). Bitswap serves blocks without hashing them each time, so this is
    /// how a rotted disk copy is found before a peer refuses it. Reads one block at a time.
    public func verifyAll(progress: ((_ checked: Int, _ total: Int) -> Void)? = nil) throws -> Verification {
        let keys = try storage("verify") {
            try pool.read { db in try Data.fetchAll(db, sql: "SELECT multihash FROM block") }
        }
        var result = Verification(intact: 0, removed: [])
        for (index, key) in keys.enumerated() {
            defer { progress?(index + 1, keys.count) }
            guard let multihash = try? Multihash(bytes: [UInt8](key)) else { continue }
            let cid = CID.v1(codec: .raw, multihash: multihash)
            do {
                guard try get(cid) != nil else { continue }
                result.intact += 1
            } catch let error as IPFSError where error.code == .corruptBlock {
                result.removed.append(multihash)
            }
        }
        return result
    }

    // MARK: Pins and garbage collection

    /// Pins the DAG under `root` recursively: garbage collection keeps it and every block it
    /// links to. The blocks need not be present yet.
    public func pin(root: CID) throws {
        let key = Data(root.bytes)
        try storage("pin") {
            try pool.write { db in try db.execute(sql: "INSERT OR IGNORE INTO pin (cid) VALUES (?)", arguments: [key]) }
        }
    }

    /// Removes a recursive pin, under whichever CID version it was pinned (the CIDv0 and the
    /// CIDv1 of a DAG-PB root name the same DAG); returns whether it existed. Blocks stay until
    /// garbage collection.
    @discardableResult
    public func unpin(root: CID) throws -> Bool {
        let v1 = CID.v1(codec: root.codec, multihash: root.multihash)
        let forms = [root, v1] + [try? CID(version: .v0, codec: root.codec, multihash: root.multihash)].compactMap { $0 }
        return try storage("unpin") {
            try pool.write { db in
                var removed = false
                for key in Set(forms.map { Data($0.bytes) }) {
                    try db.execute(sql: "DELETE FROM pin WHERE cid = ?", arguments: [key])
                    removed = removed || db.changesCount > 0
                }
                return removed
            }
        }
    }

    /// The pinned roots.
    public func pinnedRoots() throws -> [CID] {
        let rows = try storage("pins") {
            try pool.read { db in try Data.fetchAll(db, sql: "SELECT cid FROM pin") }
        }
        return rows.compactMap { try? CID(bytes: [UInt8]($0)) }
    }

    // MARK: Writers across processes

    /// The lock file, `<directory>/gc.lock`: block writers hold it shared (`flock`), garbage
    /// collection exclusively.
    public static let writersLockFileName = "gc.lock"

    /// Runs `body`, which stores blocks it pins only at the end (an import, a fetch), under the
    /// shared writers lock: no collection, in this process or another using the same store,
    /// runs meanwhile, so blocks not yet pinned cannot be collected. Waits while a collection
    /// runs.
    public func writingBlocks<T>(_ body: () throws -> T) throws -> T {
        let lock = try WritersLock(directory: directory)
        try lock.acquireShared(wait: true)
        defer { lock.release() }
        return try body()
    }

    /// ``writingBlocks(_:)`` for an async writer: waits for a running collection without
    /// blocking a thread.
    public func writingBlocks<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
        let lock = try WritersLock(directory: directory)
        while !(try lock.acquireShared(wait: false)) {
            try await Task.sleep(for: .milliseconds(20))
        }
        defer { lock.release() }
        return try await body()
    }

    /// A `flock` on the writers lock file, held while this value lives.
    final class WritersLock {
        private let descriptor: Int32

        init(directory: URL) throws {
            let path = directory.appendingPathComponent(Blockstore.writersLockFileName).path
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw IPFSError(.storageFailed, "cannot open \(path): \(String(cString: strerror(errno)))")
            }
        }

        deinit { Glibc.close(descriptor) }

        /// Takes the lock shared; `false` if `wait` is off and a collection holds it.
        @discardableResult
        func acquireShared(wait: Bool) throws -> Bool {
            try acquire(LOCK_SH | (wait ? 0 : LOCK_NB))
        }

        /// Takes the lock exclusively without waiting; `false` if writers hold it.
        func acquireExclusive() throws -> Bool {
            try acquire(LOCK_EX | LOCK_NB)
        }

        func release() {
            _ = flock(descriptor, LOCK_UN)
        }

        private func acquire(_ operation: Int32) throws -> Bool {
            while flock(descriptor, operation) != 0 {
                if errno == EINTR { continue }
                if errno == EWOULDBLOCK { return false }
                throw IPFSError(.storageFailed, "cannot lock the block store's writers lock: \(String(cString: strerror(errno)))")
            }
            return true
        }
    }

    /// Deletes every block not reachable from a pinned root (DAG-PB, DAG-CBOR and raw links).
    ///
    /// Blocks that are missing below a pin are skipped; a corrupt block found on the way is
    /// removed. While block writers run inside ``writingBlocks(_:)`` (here or in another
    /// process) nothing is collected and the result says `deferredForWriters`; blocks stored
    /// without a pin outside ``writingBlocks(_:)`` may be collected.
    public func collectGarbage() throws -> GarbageCollection {
        let lock = try WritersLock(directory: directory)
        guard try lock.acquireExclusive() else {
            return GarbageCollection(removedBlocks: 0, freedBytes: 0, deferredForWriters: true)
        }
        defer { lock.release() }
        var live = Set<[UInt8]>()
        var stack = try pinnedRoots()
        while let cid = stack.popLast() {
            let key = cid.multihash.bytes
            guard !live.contains(key) else { continue }
            guard let bytes = try? get(cid) else { continue }
            live.insert(key)
            do {
                stack.append(contentsOf: try BlockLinks.links(of: cid, bytes: bytes))
            } catch {
                logger.warning("cannot read links of a pinned block", metadata: ["cid": "\(cid)", "reason": "\(error)"])
            }
        }
        var (result, release) = try storage("garbage collection") {
            try pool.write { db -> (GarbageCollection, SegmentFiles.Release) in
                let rows = try Row.fetchAll(db, sql: "SELECT multihash, size, segment, offset FROM block")
                var result = GarbageCollection(removedBlocks: 0, freedBytes: 0)
                var release = SegmentFiles.Release()
                for row in rows {
                    let key: Data = row["multihash"]
                    guard !live.contains([UInt8](key)) else { continue }
                    try deleteRow(key: key, location: Location(row), db: db, release: &release)
                    result.removedBlocks += 1
                    result.freedBytes += UInt64(row["size"] as Int)
                }
                try dropEmptySegments(&release, db: db)
                // Files no row names: left by a crash between a commit and its unlink, or by a
                // writer that died before committing a new segment. Nobody else can be creating
                // one now: this transaction holds the write lock.
                let known = Set(try Int64.fetchAll(db, sql: "SELECT id FROM segment"))
                release.unlinked.formUnion(segments.presentIDs().filter { !known.contains($0) })
                return (result, release)
            }
        }
        segments.apply(release)
        try compactSparseSegments(into: &result)
        return result
    }

    /// Rewrites every segment whose live bytes fell under ``compactionThreshold`` of its
    /// length, except the newest while it is less than half full (it is still being filled):
    /// its intact blocks are appended (durably) to the open segment, then it is deleted. One
    /// transaction per segment, which deletes the segment's row before appending, so the
    /// blocks never go back into it; a block whose bytes no longer match its hash is dropped
    /// on the way (as ``get(_:)`` would).
    private func compactSparseSegments(into result: inout GarbageCollection) throws {
        let sparseCondition = """
            live < length * ? AND (id < (SELECT MAX(id) FROM segment) OR length >= ?)
            """
        let arguments: StatementArguments = [Self.compactionThreshold, segmentLimit / 2]
        let sparse = try storage("compaction") {
            try pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM segment WHERE \(sparseCondition)", arguments: arguments) }
        }
        for id in sparse {
            let compacted = try storage("compaction") {
                try pool.write { db -> Bool in
                    // Another process may have compacted or filled it since.
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM segment WHERE id = ? AND \(sparseCondition)", arguments: [id] + arguments) == true else {
                        return false
                    }
                    try db.execute(sql: "DELETE FROM segment WHERE id = ?", arguments: [id])
                    let rows = try Row.fetchAll(db, sql: "SELECT multihash, offset, size FROM block WHERE segment = ?", arguments: [id])
                    for start in stride(from: 0, to: rows.count, by: Self.importBatchSize) {
                        var moved: [(key: Data, bytes: [UInt8])] = []
                        for row in rows[start..<min(start + Self.importBatchSize, rows.count)] {
                            let key: Data = row["multihash"]
                            try db.execute(sql: "DELETE FROM block WHERE multihash = ?", arguments: [key])
                            let bytes = try? segments.read(id, at: row["offset"], count: row["size"])
                            guard let bytes, let multihash = try? Multihash(bytes: [UInt8](key)), multihash.matches(bytes) else {
                                logger.error("corrupt block dropped while compacting", metadata: ["segment": "\(id)"])
                                result.removedBlocks += 1
                                result.freedBytes += UInt64(row["size"] as Int)
                                continue
                            }
                            moved.append((key, bytes))
                        }
                        try append(moved, durable: true, db: db)
                    }
                    return true
                }
            }
            guard compacted else { continue }
            segments.apply(.init(unlinked: [id]))
            result.compactedSegments += 1
        }
    }

    /// Bytes the store's files take on disk: the database, its WAL and the segment files.
    /// More than ``usage()`` by SQLite's own pages and log, and by dead bytes of segments
    /// where holes could not be punched and no compaction ran yet.
    public func diskUsage() -> UInt64 {
        let database = [Self.databaseFileName, Self.databaseFileName + "-wal"].map { directory.appendingPathComponent($0).path }
        return FileSpace.allocatedBytes(ofFilesAt: database) + segments.diskUsage()
    }

    // MARK: Helpers

    /// Test hook: replaces the stored bytes of a block without verification (simulates disk
    /// corruption).
    func overwriteUnverified(_ cid: CID, with bytes: [UInt8]) throws {
        try pool.write { db in
            let key = Data(cid.multihash.bytes)
            switch try storedLocation(key: key, db: db) {
            case .segment(let id, let offset, let size):
                // Damage the segment in place; a shorter or longer copy changes the row's size.
                try segments.overwrite(bytes, in: id, at: offset)
                if bytes.count != size {
                    try db.execute(sql: "UPDATE block SET size = ? WHERE multihash = ?", arguments: [bytes.count, key])
                }
            case .inline, nil:
                try db.execute(sql: "UPDATE block SET data = ? WHERE multihash = ?", arguments: [Data(bytes), key])
            }
        }
    }

    private func storage<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as IPFSError {
            throw error
        } catch {
            throw IPFSError(.storageFailed, "block store \(what) failed", underlying: error)
        }
    }
}
