import Multiformats
import Testing

@testable import IPFS

/// The blocks a fetch hands to the export that follows it, held in memory up to a bound.
@Suite struct FetchedBlocksTests {
    func block(_ n: UInt64, size: Int = 1000) -> (cid: CID, bytes: [UInt8]) {
        let bytes = pseudoRandomBytes(count: size, seed: n * 2)
        return (CID.v1(codec: .raw, multihash: .sha256(bytes)), bytes)
    }

    @Test func eachBlockIsTakenOnce() {
        let fetched = IPFSNode.FetchedBlocks()
        let one = block(1)
        fetched.add([one])
        #expect(fetched.take(one.cid.multihash) == one.bytes)
        #expect(fetched.take(one.cid.multihash) == nil)
        #expect(fetched.heldBytes == 0)
    }

    @Test func aBlockTheExportAlreadyReadFromTheStoreIsNotKept() {
        let fetched = IPFSNode.FetchedBlocks()
        let early = block(2)
        let late = block(3)
        // Committed and read by the export before the fetch handed it over: not kept after.
        fetched.readFromStore(early.cid.multihash)
        fetched.add([early, late])
        #expect(fetched.heldBytes == late.bytes.count)
        #expect(fetched.take(early.cid.multihash) == nil)
        // Handed over, then read from the store anyway: the copy held is dropped.
        fetched.readFromStore(late.cid.multihash)
        #expect(fetched.heldBytes == 0)
    }

    @Test func heldBytesStayWithinTheCapacity() {
        let fetched = IPFSNode.FetchedBlocks()
        let size = 1 << 20
        let blocks = (0..<40).map { block(UInt64(100 + $0), size: size) }
        fetched.add(blocks)
        #expect(fetched.heldBytes == IPFSNode.FetchedBlocks.capacity)
        #expect(fetched.take(blocks[39].cid.multihash) == nil)
    }
}
