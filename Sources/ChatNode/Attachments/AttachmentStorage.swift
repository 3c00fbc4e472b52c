import Foundation
import IPFS
import Logging
import Synchronization

/// Where a home keeps attachments: the block store (`<home>/blocks/`, shared with Bitswap so
/// peers can fetch what we sent) and the decrypted files (`<home>/attachments/<message id>/`).
///
/// The block store opens on first use, once per account, so the node's Bitswap server and the
/// account's `sendFile` share one database pool in a process.
///
/// Garbage collection deletes every block no pin reaches, and a block writer may hold blocks
/// that no pin reaches yet (an import pins its root only at the end). So block writers run
/// inside ``writingBlocks(_:)`` and a collection never overlaps them: asked for while one
/// runs, it is deferred until the last one ends. Writers also hold the block store's
/// cross-process writers lock (``IPFS/Blockstore/writingBlocks(_:)``), so a collection in
/// another process (a running node, a CLI command) skips rather than deleting their blocks.
final class AttachmentStorage: Sendable {
    /// The directory of decrypted received files, inside the home.
    static let directoryName = "attachments"

    /// Block writers in progress, and whether a collection waits for them to end.
    private struct Writers {
        var count = 0
        var isCollectionPending = false
        /// A collection found another process writing and did nothing; it is tried again by
        /// ``retryDeferredCollection()``.
        var isDeferredByAnotherProcess = false
    }

    let home: URL
    private let opened = Mutex<Blockstore?>(nil)
    /// Held for the whole of a collection, so writers cannot start during one.
    private let writers = Mutex(Writers())
    private let logger = Logger(label: "p2pchat.attachments.storage")

    init(home: URL) {
        self.home = home
    }

    /// The home's block store, opened now (logging to `logger`) if it was not yet.
    func blockstore(logger: Logger = Logger(label: "p2pchat.attachments.blocks")) throws -> Blockstore {
        try opened.withLock { opened in
            if let opened { return opened }
            let store = try Blockstore(home: home, logger: logger)
            opened = store
            return store
        }
    }

    /// The directory for one message's file: `<home>/attachments/<message id>/`.
    func directory(for messageID: String) -> URL {
        home.appendingPathComponent(Self.directoryName, isDirectory: true).appendingPathComponent(messageID, isDirectory: true)
    }

    // MARK: Writers and garbage collection

    /// Runs `body`, which stores blocks that may not be pinned yet, with no collection meanwhile
    /// (in this process or another).
    func writingBlocks<T>(_ body: () throws -> T) throws -> T {
        let store = try blockstore()
        beginWriting()
        defer { endWriting() }
        return try store.writingBlocks(body)
    }

    /// Runs `body`, which stores blocks that may not be pinned yet, with no collection meanwhile
    /// (in this process or another).
    func writingBlocks<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
        let store = try blockstore()
        beginWriting()
        defer { endWriting() }
        return try await store.writingBlocks(body)
    }

    /// Deletes every block no pin reaches, now; or, while blocks are being written in this
    /// process, once the last writer ends (then returns `nil`). While another process writes,
    /// nothing is collected and it returns `nil` too; ``retryDeferredCollection()`` tries again.
    func collectGarbage() throws -> Blockstore.GarbageCollection? {
        let store = try blockstore()
        return try writers.withLock { writers in
            guard writers.count == 0 else {
                writers.isCollectionPending = true
                return nil
            }
            let collected = try store.collectGarbage()
            writers.isDeferredByAnotherProcess = collected.deferredForWriters
            guard !collected.deferredForWriters else {
                logger.info("block collection skipped: another process is writing blocks; will try again")
                return nil
            }
            return collected
        }
    }

    /// Runs a collection that another process's writers made skip, if there is one and no
    /// writer of this process is at work; the node's attachment loop calls it on every pass
    /// (at least once a minute). Returns what it collected, `nil` if nothing was due or it had
    /// to skip again.
    @discardableResult
    func retryDeferredCollection() -> Blockstore.GarbageCollection? {
        writers.withLock { writers in
            guard writers.isDeferredByAnotherProcess, writers.count == 0 else { return nil }
            return collectDeferred(&writers)
        }
    }

    /// A collection that had to wait (for this process's writers, or another's), run now with
    /// `writers` locked; notes whether another process made it skip again.
    @discardableResult
    private func collectDeferred(_ writers: inout Writers) -> Blockstore.GarbageCollection? {
        do {
            let collected = try blockstore().collectGarbage()
            writers.isDeferredByAnotherProcess = collected.deferredForWriters
            guard !collected.deferredForWriters else { return nil }
            logger.info("deferred block collection", metadata: ["blocks": "\(collected.removedBlocks)", "bytes": "\(collected.freedBytes)"])
            return collected
        } catch {
            logger.warning("deferred block collection failed", metadata: ["reason": "\(error)"])
            return nil
        }
    }

    private func beginWriting() {
        writers.withLock { $0.count += 1 }  // waits while a collection runs
    }

    private func endWriting() {
        writers.withLock { writers in
            writers.count -= 1
            guard writers.count == 0, writers.isCollectionPending else { return }
            writers.isCollectionPending = false
            collectDeferred(&writers)
        }
    }
}
