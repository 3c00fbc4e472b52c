import Crypto
import Foundation
import GRDB
import Multiformats
import Synchronization

/// The mailbox's durable storage: one SQLite file (GRDB, WAL, `synchronous = FULL`,
/// `secure_delete = ON`) in the mailbox home.
///
/// It stores queues (random id, the two public keys, an optional push endpoint, counters) and
/// envelopes (queue, CID, bytes, expiry), nothing else: no peer ids, no addresses, no deposit
/// times. Deposits are written by a group-commit writer: concurrent deposits share one
/// transaction, and each caller resumes only after that transaction has committed, so an
/// acknowledged deposit survives `kill -9` (and power loss, with `synchronous = FULL`).
public final class MailboxStore: Sendable {
    /// The database file name inside the home directory.
    public static let databaseFileName = "mailbox.sqlite"
    /// The most deposits committed in one transaction.
    public static let maxDepositsPerTransaction = 512

    /// A queue as stored.
    struct QueueRecord: Sendable {
        var id: QueueID
        var recipientKey: [UInt8]
        var senderKey: [UInt8]
        var pushEndpoint: String?
    }

    /// A deposit waiting for the group-commit writer.
    struct Deposit: Sendable {
        var queueID: QueueID
        var cid: CID
        var data: [UInt8]
        var expiresAt: UInt64
        var maxCount: UInt64
        var maxBytes: UInt64
    }

    /// What became of a deposit.
    enum DepositOutcome: Sendable, Equatable {
        /// Stored at this position in its queue (1, 2, 3…; per queue, so it reveals nothing of other queues).
        case stored(sequence: UInt64)
        /// The same CID was already in the queue (not stored again).
        case duplicate(sequence: UInt64)
        /// Refused (unknown queue, quota).
        case refused(MailboxError)
    }

    /// Counters of one queue.
    struct QueueStatus: Sendable {
        var count: UInt64
        var bytes: UInt64
        var hasPush: Bool
    }

    /// The result of a fetch.
    struct FetchResult: Sendable {
        var blocks: [(cid: CID, data: [UInt8])] = []
        var missing: [CID] = []
        var corrupt: [CID] = []
        var deferred: [CID] = []
    }

    private struct BatchState {
        var pending: [(Deposit, CheckedContinuation<DepositOutcome, any Error>)] = []
        /// A transaction is running or scheduled; new deposits only join `pending`.
        var isWriting = false
        /// The size of the last committed batch: above 1 means deposits arrive concurrently,
        /// and waiting `commitWindow` before the next transaction gathers a larger batch.
        var lastBatchSize = 0
    }

    /// What a deposit or a finished transaction leads to.
    private enum NextWrite {
        case none
        case now
        case afterWindow
    }

    let pool: DatabasePool
    /// The database file.
    public let fileURL: URL
    private let batch = Mutex(BatchState())
    /// How long the group-commit writer waits for more deposits before a transaction while
    /// deposits arrive concurrently (`MailboxConfiguration.depositCommitWindow`).
    let commitWindow: Duration

    /// Opens (creating if needed) the store in `directory`, running migrations.
    /// `commitWindow`: see `MailboxConfiguration.depositCommitWindow`.
    public init(directory: URL, commitWindow: Duration = MailboxConfiguration.defaultDepositCommitWindow) throws {
        self.commitWindow = commitWindow
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            fileURL = directory.appendingPathComponent(Self.databaseFileName)
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON")
            }
            configuration.label = "mailbox"
            pool = try DatabasePool(path: fileURL.path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch let error as MailboxError {
            throw error
        } catch {
            throw MailboxError(.internalError, "cannot open the mailbox database in \(directory.path)", underlying: error)
        }
    }

    /// Closes the database, first checkpointing and truncating the WAL so that no deleted
    /// envelope lingers in it. Later calls fail.
    public func close() throws {
        do {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try pool.close()
        } catch {
            throw MailboxError(.internalError, "cannot close the mailbox database", underlying: error)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE queue (
                    id BLOB PRIMARY KEY NOT NULL,
                    recipientKey BLOB NOT NULL,
                    senderKey BLOB NOT NULL,
                    pushEndpoint TEXT,
                    lastPosition INTEGER NOT NULL DEFAULT 0,
                    envelopeCount INTEGER NOT NULL DEFAULT 0,
                    byteCount INTEGER NOT NULL DEFAULT 0
                ) WITHOUT ROWID;
                CREATE TABLE envelope (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    queueID BLOB NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    cid BLOB NOT NULL,
                    data BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    expiresAt INTEGER NOT NULL,
                    UNIQUE (queueID, cid)
                );
                CREATE INDEX envelope_by_queue ON envelope(queueID, position);
                CREATE INDEX envelope_by_expiry ON envelope(expiresAt);
                CREATE TRIGGER envelope_added AFTER INSERT ON envelope BEGIN
                    UPDATE queue SET envelopeCount = envelopeCount + 1, byteCount = byteCount + NEW.size WHERE id = NEW.queueID;
                END;
                CREATE TRIGGER envelope_removed AFTER DELETE ON envelope BEGIN
                    UPDATE queue SET envelopeCount = envelopeCount - 1, byteCount = byteCount - OLD.size WHERE id = OLD.queueID;
                END;
                """)
        }
        // Attachment blocks for the recipient (protocol version 2): per queue, by CID, counted in
        // the queue's byteCount (so against its byte quota), not in its envelope count.
        migrator.registerMigration("v2-blocks") { db in
            try db.execute(sql: """
                CREATE TABLE block (
                    queueID BLOB NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
                    cid BLOB NOT NULL,
                    data BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    expiresAt INTEGER NOT NULL,
                    PRIMARY KEY (queueID, cid)
                ) WITHOUT ROWID;
                CREATE INDEX block_by_expiry ON block(expiresAt);
                CREATE TRIGGER block_added AFTER INSERT ON block BEGIN
                    UPDATE queue SET byteCount = byteCount + NEW.size WHERE id = NEW.queueID;
                END;
                CREATE TRIGGER block_removed AFTER DELETE ON block BEGIN
                    UPDATE queue SET byteCount = byteCount - OLD.size WHERE id = OLD.queueID;
                END;
                """)
        }
        return migrator
    }

    private func storageError(_ error: any Error, _ what: String) -> MailboxError {
        if let error = error as? MailboxError { return error }
        return MailboxError(.internalError, "storage failed: \(what)", underlying: error)
    }

    // MARK: Queues

    /// Stores a new queue; refuses when `maxQueues` queues exist.
    func createQueue(_ record: QueueRecord, maxQueues: Int) async throws {
        do {
            try await pool.write { db in
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue") ?? 0
                guard count < maxQueues else {
                    throw MailboxError(.tooManyQueues, "this mailbox holds its maximum of \(maxQueues) queues")
                }
                try db.execute(
                    sql: "INSERT INTO queue (id, recipientKey, senderKey) VALUES (?, ?, ?)",
                    arguments: [Data(record.id.bytes), Data(record.recipientKey), Data(record.senderKey)])
            }
        } catch {
            throw storageError(error, "create queue")
        }
    }

    /// The queue with `id`, if it exists.
    func queue(_ id: QueueID) async throws -> QueueRecord? {
        do {
            return try await pool.read { db in
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT recipientKey, senderKey, pushEndpoint FROM queue WHERE id = ?", arguments: [Data(id.bytes)])
                else { return nil }
                let recipient: Data = row[0]
                let sender: Data = row[1]
                return QueueRecord(id: id, recipientKey: [UInt8](recipient), senderKey: [UInt8](sender), pushEndpoint: row[2])
            }
        } catch {
            throw storageError(error, "read queue")
        }
    }

    /// Deletes a queue and its envelopes; `false` if it did not exist.
    func deleteQueue(_ id: QueueID) async throws -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(sql: "DELETE FROM queue WHERE id = ?", arguments: [Data(id.bytes)])
                return db.changesCount > 0
            }
        } catch {
            throw storageError(error, "delete queue")
        }
    }

    /// Sets or clears the push endpoint; `false` if the queue does not exist.
    func setPushEndpoint(_ endpoint: String?, for id: QueueID) async throws -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(sql: "UPDATE queue SET pushEndpoint = ? WHERE id = ?", arguments: [endpoint, Data(id.bytes)])
                return db.changesCount > 0
            }
        } catch {
            throw storageError(error, "set push endpoint")
        }
    }

    /// The counters of a queue, `nil` if it does not exist.
    func status(of id: QueueID) async throws -> QueueStatus? {
        do {
            return try await pool.read { db in
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT envelopeCount, byteCount, pushEndpoint IS NOT NULL FROM queue WHERE id = ?",
                    arguments: [Data(id.bytes)])
                else { return nil }
                return QueueStatus(count: UInt64(row[0] as Int64), bytes: UInt64(row[1] as Int64), hasPush: row[2])
            }
        } catch {
            throw storageError(error, "queue status")
        }
    }

    /// The number of queues.
    public func queueCount() async throws -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue") ?? 0 }
        } catch {
            throw storageError(error, "count queues")
        }
    }

    // MARK: Deposits (group commit)

    /// Stores a deposit; returns once the transaction holding it has committed.
    func deposit(_ deposit: Deposit) async throws -> DepositOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let next = batch.withLock { state -> NextWrite in
                state.pending.append((deposit, continuation))
                if state.isWriting { return .none }
                state.isWriting = true
                return state.lastBatchSize > 1 ? .afterWindow : .now
            }
            start(next)
        }
    }

    /// Every transaction has fixed costs (locks, WAL frames of the same index pages, fsync)
    /// that dwarf one 1 KiB row. Under concurrent load, waiting `commitWindow` lets ten or
    /// more deposits share them instead of three or four; a lone depositor never waits.
    /// Callers still resume only after the commit.
    private func start(_ next: NextWrite) {
        switch next {
        case .none:
            return
        case .now:
            flush()
        case .afterWindow:
            let delay = commitWindow.components
            let nanoseconds = Int(delay.seconds) * 1_000_000_000 + Int(delay.attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { [self] in flush() }
        }
    }

    /// Writes what is pending (up to `maxDepositsPerTransaction`) in one transaction on GRDB's
    /// writer queue, resumes the callers after the commit, and starts the next transaction
    /// while deposits keep arriving.
    private func flush() {
        let work = batch.withLock { state in
            let taken = Array(state.pending.prefix(Self.maxDepositsPerTransaction))
            state.pending.removeFirst(taken.count)
            if taken.isEmpty { state.isWriting = false }
            return taken
        }
        guard !work.isEmpty else { return }
        let deposits = work.map(\.0)
        pool.asyncWrite({ db in
            try deposits.map { try Self.insert($0, in: db) }
        }, completion: { [self] _, result in
            switch result {
            case .success(let outcomes):
                for (item, outcome) in zip(work, outcomes) { item.1.resume(returning: outcome) }
            case .failure(let error):
                let failure = storageError(error, "deposit")
                for item in work { item.1.resume(throwing: failure) }
            }
            let next = batch.withLock { state -> NextWrite in
                state.lastBatchSize = work.count
                if state.pending.isEmpty {
                    state.isWriting = false
                    return .none
                }
                return state.lastBatchSize > 1 && state.pending.count < Self.maxDepositsPerTransaction ? .afterWindow : .now
            }
            start(next)
        })
    }

    private static func insert(_ deposit: Deposit, in db: Database) throws -> DepositOutcome {
        let queueID = Data(deposit.queueID.bytes)
        // Cached statements: preparing (and authorizing) SQL for every row cost more than running it.
        guard let counters = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT envelopeCount, byteCount, lastPosition FROM queue WHERE id = ?"), arguments: [queueID])
        else {
            return .refused(MailboxError(.unknownQueue, "no such queue"))
        }
        let cid = Data(deposit.cid.bytes)
        if let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT sequence, position FROM envelope WHERE queueID = ? AND cid = ?"), arguments: [queueID, cid]) {
            try db.execute(
                sql: "UPDATE envelope SET expiresAt = MAX(expiresAt, ?) WHERE sequence = ?",
                arguments: [Int64(clamping: deposit.expiresAt), existing[0] as Int64])
            return .duplicate(sequence: UInt64(existing[1] as Int64))
        }
        let count = UInt64(counters[0] as Int64)
        let bytes = UInt64(counters[1] as Int64)
        guard count < deposit.maxCount else {
            return .refused(MailboxError(.quotaCount, "queue holds its maximum of \(deposit.maxCount) envelopes"))
        }
        guard bytes + UInt64(deposit.data.count) <= deposit.maxBytes else {
            return .refused(MailboxError(.quotaBytes, "queue would exceed its maximum of \(deposit.maxBytes) bytes"))
        }
        let position = (counters[2] as Int64) + 1
        try db.cachedStatement(sql: "UPDATE queue SET lastPosition = ? WHERE id = ?").execute(arguments: [position, queueID])
        let statement = try db.cachedStatement(
            sql: "INSERT INTO envelope (queueID, position, cid, data, size, expiresAt) VALUES (?, ?, ?, ?, ?, ?)")
        try statement.execute(arguments: [
            queueID, position, cid, Data(deposit.data), deposit.data.count, Int64(clamping: deposit.expiresAt),
        ])
        return .stored(sequence: UInt64(position))
    }

    // MARK: Reading and deleting

    /// Up to `limit` unexpired envelopes of a queue after `sequence`, in deposit order.
    func list(_ id: QueueID, after sequence: UInt64, limit: Int, now: UInt64) async throws -> [MailboxResponse.Entry] {
        do {
            return try await pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT cid, size, position, expiresAt FROM envelope
                        WHERE queueID = ? AND position > ? AND expiresAt > ? ORDER BY position LIMIT ?
                        """,
                    arguments: [Data(id.bytes), Int64(clamping: sequence), Int64(clamping: now), limit])
                return try rows.map { row in
                    let cid: Data = row[0]
                    return MailboxResponse.Entry(
                        cid: try CID(bytes: [UInt8](cid)), size: UInt64(row[1] as Int64),
                        sequence: UInt64(row[2] as Int64), expiresAt: UInt64(row[3] as Int64))
                }
            }
        } catch {
            throw storageError(error, "list")
        }
    }

    /// The bytes of `cids` in a queue, in deposit order, each checked against its CID's hash.
    /// Rows that fail the check are deleted and reported as corrupt, never returned. Blocks
    /// past `byteBudget` are left for a later fetch (`deferred`).
    func fetch(_ id: QueueID, cids: [CID], now: UInt64, byteBudget: Int) async throws -> FetchResult {
        guard !cids.isEmpty else { return FetchResult() }
        let rows: [(sequence: Int64, cid: CID, data: [UInt8])]
        do {
            rows = try await pool.read { db in
                let placeholders = Array(repeating: "?", count: cids.count).joined(separator: ",")
                var arguments: StatementArguments = [Data(id.bytes), Int64(clamping: now)]
                for cid in cids { _ = arguments.append(contentsOf: [Data(cid.bytes)]) }
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT sequence, cid, data FROM envelope
                        WHERE queueID = ? AND expiresAt > ? AND cid IN (\(placeholders)) ORDER BY position
                        """,
                    arguments: arguments
                ).map { row in
                    let cid: Data = row[1]
                    let data: Data = row[2]
                    return (row[0], try CID(bytes: [UInt8](cid)), [UInt8](data))
                }
            }
        } catch {
            throw storageError(error, "fetch")
        }
        var result = FetchResult()
        var found = Set<CID>()
        var corruptSequences: [Int64] = []
        var budget = byteBudget
        for row in rows {
            found.insert(row.cid)
            guard row.cid.multihash.matches(row.data) else {
                result.corrupt.append(row.cid)
                corruptSequences.append(row.sequence)
                continue
            }
            guard row.data.count + 64 <= budget || result.blocks.isEmpty else {
                result.deferred.append(row.cid)
                continue
            }
            budget -= row.data.count + 64
            result.blocks.append((row.cid, row.data))
        }
        result.missing = cids.filter { !found.contains($0) }
        if !corruptSequences.isEmpty {
            let corruptSequences = corruptSequences
            do {
                try await pool.write { db in
                    for sequence in corruptSequences {
                        try db.execute(sql: "DELETE FROM envelope WHERE sequence = ?", arguments: [sequence])
                    }
                }
            } catch {
                throw storageError(error, "drop corrupt envelopes")
            }
        }
        return result
    }

    /// Deletes `cids` from a queue; returns how many were there.
    func acknowledge(_ id: QueueID, cids: [CID]) async throws -> Int {
        do {
            return try await pool.write { db in
                var deleted = 0
                let statement = try db.cachedStatement(sql: "DELETE FROM envelope WHERE queueID = ? AND cid = ?")
                for cid in cids {
                    try statement.execute(arguments: [Data(id.bytes), Data(cid.bytes)])
                    deleted += db.changesCount
                }
                return deleted
            }
        } catch {
            throw storageError(error, "acknowledge")
        }
    }

    // MARK: Blocks

    /// Stores `blocks` (already checked against their CIDs) in a queue, all or none: blocks the
    /// queue already holds only get the later expiry; the new ones must fit the byte quota
    /// together. Returns how many were new.
    func depositBlocks(
        _ id: QueueID, blocks: [(cid: CID, data: [UInt8])], expiresAt: UInt64, maxBytes: UInt64
    ) async throws -> Int {
        do {
            return try await pool.write { db in
                let queueID = Data(id.bytes)
                guard let used = try UInt64.fetchOne(db, sql: "SELECT byteCount FROM queue WHERE id = ?", arguments: [queueID]) else {
                    throw MailboxError(.unknownQueue, "no such queue")
                }
                let expiry = Int64(clamping: expiresAt)
                var fresh: [(cid: Data, data: [UInt8])] = []
                var seen = Set<CID>()
                for block in blocks where seen.insert(block.cid).inserted {
                    let cid = Data(block.cid.bytes)
                    try db.execute(
                        sql: "UPDATE block SET expiresAt = MAX(expiresAt, ?) WHERE queueID = ? AND cid = ?",
                        arguments: [expiry, queueID, cid])
                    if db.changesCount == 0 { fresh.append((cid, block.data)) }
                }
                let added = fresh.reduce(UInt64(0)) { $0 + UInt64($1.data.count) }
                guard used + added <= maxBytes else {
                    throw MailboxError(.quotaBytes, "\(added) block bytes would exceed the queue's maximum of \(maxBytes) bytes")
                }
                let insert = try db.cachedStatement(sql: "INSERT INTO block (queueID, cid, data, size, expiresAt) VALUES (?, ?, ?, ?, ?)")
                for block in fresh {
                    try insert.execute(arguments: [queueID, block.cid, Data(block.data), block.data.count, expiry])
                }
                return fresh.count
            }
        } catch {
            throw storageError(error, "deposit blocks")
        }
    }

    /// The bytes of `cids` in a queue, each checked against its CID's hash on read. Blocks that
    /// fail the check are deleted and reported as corrupt; blocks past `byteBudget` are left
    /// for a later fetch (`deferred`).
    func fetchBlocks(_ id: QueueID, cids: [CID], now: UInt64, byteBudget: Int) async throws -> FetchResult {
        let result: FetchResult
        do {
            result = try await pool.read { db in
                var result = FetchResult()
                let statement = try db.cachedStatement(sql: "SELECT data FROM block WHERE queueID = ? AND cid = ? AND expiresAt > ?")
                var budget = byteBudget
                for cid in cids {
                    guard let data = try Data.fetchOne(statement, arguments: [Data(id.bytes), Data(cid.bytes), Int64(clamping: now)]) else {
                        result.missing.append(cid)
                        continue
                    }
                    let bytes = [UInt8](data)
                    guard cid.multihash.code == .sha2_256, cid.multihash.matches(bytes) else {
                        result.corrupt.append(cid)
                        continue
                    }
                    guard bytes.count + 64 <= budget || result.blocks.isEmpty else {
                        result.deferred.append(cid)
                        continue
                    }
                    budget -= bytes.count + 64
                    result.blocks.append((cid, bytes))
                }
                return result
            }
        } catch {
            throw storageError(error, "fetch blocks")
        }
        if !result.corrupt.isEmpty { _ = try await acknowledgeBlocks(id, cids: result.corrupt) }
        return result
    }

    /// Deletes `cids` from a queue's blocks; returns how many were there.
    func acknowledgeBlocks(_ id: QueueID, cids: [CID]) async throws -> Int {
        do {
            return try await pool.write { db in
                var deleted = 0
                let statement = try db.cachedStatement(sql: "DELETE FROM block WHERE queueID = ? AND cid = ?")
                for cid in cids {
                    try statement.execute(arguments: [Data(id.bytes), Data(cid.bytes)])
                    deleted += db.changesCount
                }
                return deleted
            }
        } catch {
            throw storageError(error, "acknowledge blocks")
        }
    }

    /// The number of blocks a queue holds (tests and status).
    func blockCount(of id: QueueID) async throws -> Int {
        do {
            return try await pool.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM block WHERE queueID = ?", arguments: [Data(id.bytes)]) ?? 0
            }
        } catch {
            throw storageError(error, "count blocks")
        }
    }

    /// Deletes every envelope and block whose expiry is at or before `now`, then checkpoints
    /// and truncates the WAL (old copies of deleted rows live there until then); returns how
    /// many envelopes and blocks were deleted.
    public func deleteExpired(now: UInt64) async throws -> Int {
        do {
            let deleted = try await pool.write { db in
                try db.execute(sql: "DELETE FROM envelope WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
                var count = db.changesCount
                try db.execute(sql: "DELETE FROM block WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
                count += db.changesCount
                return count
            }
            try await pool.writeWithoutTransaction { db in _ = try? db.checkpoint(.truncate) }
            return deleted
        } catch {
            throw storageError(error, "expiry sweep")
        }
    }
}
