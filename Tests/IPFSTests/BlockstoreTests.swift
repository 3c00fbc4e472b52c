import Foundation
import IPLD
import Multiformats
import Testing

@testable import IPFS

@Suite struct BlockstoreTests {
    @Test func putGetHasDeleteAndUsage() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let data = Array("hello world".utf8)
        let raw = CID.v1(codec: .raw, multihash: .sha256(data))
        #expect(try store.get(raw) == nil)
        #expect(try !store.has(raw))
        try store.put(data, for: raw)
        #expect(try store.get(raw) == data)
        #expect(try store.has(raw))
        #expect(try store.usage() == UInt64(data.count))
        // Same multihash under another CID version/codec: one shared block.
        let v0 = try CID(version: .v0, codec: .dagPB, multihash: .sha256(data))
        #expect(try store.get(v0) == data)
        try store.put(data, for: v0)
        #expect(try store.count() == 1)
        #expect(try store.usage() == UInt64(data.count))
        #expect(try store.delete(raw))
        #expect(try !store.has(v0))
        #expect(try store.usage() == 0)
        #expect(try !store.delete(raw))
    }

    @Test func refusesWrongHashAndOversizedBlocks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let claimed = CID.v1(codec: .raw, multihash: .sha256(Array("the real bytes".utf8)))
        #expect(throws: IPFSError.self) { try store.put(Array("other bytes".utf8), for: claimed) }
        #expect(try store.count() == 0)
        let big = [UInt8](repeating: 7, count: Blockstore.maxBlockSize + 1)
        let error = #expect(throws: IPFSError.self) { try store.put(big, for: CID.v1(codec: .raw, multihash: .sha256(big))) }
        #expect(error?.code == .limitExceeded)
        // A batch with one bad block stores nothing.
        let good = Array("good".utf8)
        #expect(throws: IPFSError.self) {
            try store.putMany([(CID.v1(codec: .raw, multihash: .sha256(good)), good), (claimed, good)])
        }
        #expect(try store.count() == 0)
    }

    @Test func corruptBlockIsReportedAndRemovedNeverReturned() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let data = pseudoRandomBytes(count: 1000, seed: 1)
        let cid = CID.v1(codec: .raw, multihash: .sha256(data))
        try store.put(data, for: cid)
        var corrupted = data
        corrupted[500] ^= 0xff
        try store.overwriteUnverified(cid, with: corrupted)
        let error = #expect(throws: IPFSError.self) { try store.get(cid) }
        #expect(error?.code == .corruptBlock)
        #expect(try !store.has(cid))
        #expect(try store.get(cid) == nil)
    }

    @Test func storingABlockAgainRepairsACorruptCopy() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let data = pseudoRandomBytes(count: 300_000, seed: 3)
        let cid = CID.v1(codec: .raw, multihash: .sha256(data))
        try store.put(data, for: cid)
        var corrupted = data
        corrupted[123_456] ^= 0x01
        try store.overwriteUnverified(cid, with: corrupted)
        // Bitswap serves what is stored (receivers verify); storing the real bytes again mends it.
        #expect(try store.getUnverified(cid) == corrupted)
        try store.put(data, for: cid)
        #expect(try store.get(cid) == data)
        #expect(try store.count() == 1)
        #expect(try store.usage() == UInt64(data.count))
    }

    @Test func verifyAllRemovesRottedBlocksOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let blocks = (0..<5).map { [UInt8($0)] + pseudoRandomBytes(count: 5000, seed: 20) }
        let cids = blocks.map { CID.v1(codec: .raw, multihash: .sha256($0)) }
        try store.putMany(Array(zip(cids, blocks)).map { ($0.0, $0.1) })
        var rotted = blocks[3]
        rotted[0] ^= 0x80
        try store.overwriteUnverified(cids[3], with: rotted)
        var reports: [Int] = []
        let result = try store.verifyAll { checked, total in
            #expect(total == 5)
            reports.append(checked)
        }
        #expect(result.intact == 4)
        #expect(result.removed == [cids[3].multihash])
        #expect(reports == [1, 2, 3, 4, 5])
        #expect(try !store.has(cids[3]))
        #expect(try store.count() == 4)
    }

    @Test func collectionSkipsWhileAnotherStoreOnTheSameDirectoryWrites() throws {
        // Two stores on one directory stand for two processes (each holds its own lock file
        // descriptor, and flock conflicts between descriptors as between processes).
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let writer = try Blockstore(directory: directory.url)
        let collector = try Blockstore(directory: directory.url)
        let data = pseudoRandomBytes(count: 3000, seed: 31)
        let cid = CID.v1(codec: .raw, multihash: .sha256(data))
        try writer.writingBlocks {
            try writer.put(data, for: cid)  // not pinned yet
            let result = try collector.collectGarbage()
            #expect(result.deferredForWriters)
            #expect(result.removedBlocks == 0)
            #expect(try collector.has(cid))
        }
        // The writer is done (and never pinned it): the next collection takes it.
        let result = try collector.collectGarbage()
        #expect(!result.deferredForWriters)
        #expect(result.removedBlocks == 1)
        #expect(try !writer.has(cid))
    }

    @Test func anAsyncWriterWaitsForARunningCollection() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let collection = try Blockstore.WritersLock(directory: directory.url)
        #expect(try collection.acquireExclusive())
        let started = ContinuousClock.now
        let writer = Task {
            try await store.writingBlocks { () async -> ContinuousClock.Instant in
                await Task.yield()
                return ContinuousClock.now
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        collection.release()
        let entered = try await writer.value
        #expect(entered - started >= .milliseconds(150))
    }

    @Test func survivesRestart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let data = pseudoRandomBytes(count: 4096, seed: 2)
        let cid = CID.v1(codec: .raw, multihash: .sha256(data))
        do {
            let store = try Blockstore(directory: directory.url)
            try store.put(data, for: cid)
            try store.pin(root: cid)
            try store.close()
        }
        let reopened = try Blockstore(directory: directory.url)
        #expect(try reopened.get(cid) == data)
        #expect(try reopened.pinnedRoots() == [cid])
        #expect(try reopened.usage() == 4096)
    }

    @Test func unpinTakesEitherCIDVersionOfADAGPBRoot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        let multihash = Multihash.sha256(Array("a root".utf8))
        let v0 = try CID(version: .v0, codec: .dagPB, multihash: multihash)
        let v1 = CID.v1(codec: .dagPB, multihash: multihash)
        try store.pin(root: v0)
        #expect(try store.unpin(root: v1))
        #expect(try store.pinnedRoots().isEmpty)
        try store.pin(root: v1)
        #expect(try store.unpin(root: v0))
        #expect(try !store.unpin(root: v0))
        // Another codec over the same hash is another root.
        try store.pin(root: v1)
        #expect(try !store.unpin(root: CID.v1(codec: .raw, multihash: multihash)))
        #expect(try store.pinnedRoots() == [v1])
    }

    @Test func garbageCollectionKeepsPinnedDAGsOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try Blockstore(directory: directory.url)
        // A 3-chunk file (DAG-PB root over raw leaves) and a stray block.
        var blocks: [(cid: CID, bytes: [UInt8])] = []
        let importer = UnixFSImporter(options: .init(chunkSize: 1024, cidVersion: .v1, rawLeaves: true))
        let root = try importer.importFile(bytes: pseudoRandomBytes(count: 3000, seed: 3)) { blocks.append(($0, $1)) }
        #expect(blocks.count == 4)
        try store.putMany(blocks)
        let stray = Array("unpinned".utf8)
        let strayCID = CID.v1(codec: .raw, multihash: .sha256(stray))
        try store.put(stray, for: strayCID)
        let before = try store.usage()

        // Nothing pinned: everything goes.
        try store.pin(root: root.cid)
        var result = try store.collectGarbage()
        #expect(result.removedBlocks == 1)
        #expect(result.freedBytes == UInt64(stray.count))
        #expect(try store.usage() == before - UInt64(stray.count))
        for block in blocks { #expect(try store.has(block.cid)) }

        #expect(try store.unpin(root: root.cid))
        result = try store.collectGarbage()
        #expect(result.removedBlocks == 4)
        #expect(try store.count() == 0)
        #expect(try store.usage() == 0)
    }
}
