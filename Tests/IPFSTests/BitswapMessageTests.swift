import LibP2P
import Multiformats
import Testing

@testable import IPFS

@Suite struct BitswapMessageTests {
    let data = Array("hello world".utf8)
    var rawCID: CID { CID.v1(codec: .raw, multihash: .sha256(data)) }
    var v0CID: CID { try! CID(version: .v0, codec: .dagPB, multihash: .sha256(data)) }

    @Test func roundTripsEveryField() throws {
        let message = BitswapMessage(
            wantlist: .init(entries: [
                .init(cid: rawCID, priority: 5, wantType: .have, sendDontHave: true),
                .init(cid: v0CID, priority: -3, isCancel: true),
                .init(cid: rawCID, priority: Int32.max, wantType: .block),
            ], isFull: true),
            blocks: [data],
            payload: [.init(cid: rawCID, data: data), .init(cid: v0CID, data: data)],
            blockPresences: [.init(cid: rawCID, kind: .have), .init(cid: v0CID, kind: .dontHave)],
            pendingBytes: 12345)
        let parsed = try BitswapMessage(parsing: message.bytes)
        #expect(parsed == message)
        #expect(parsed.bytes == message.bytes)
        // The server's single-copy framing is the same bytes behind their length.
        var framed = try message.lengthPrefixedBuffer()
        #expect(framed.readBytes(length: framed.readableBytes) == Varint.encode(UInt64(message.bytes.count)) + message.bytes)
    }

    @Test func refusesToFrameAnOversizedMessage() {
        let block = [UInt8](repeating: 9, count: Blockstore.maxBlockSize)
        let message = BitswapMessage(payload: [.init(cid: rawCID, data: block), .init(cid: v0CID, data: block), .init(cid: rawCID, data: block)])
        let error = #expect(throws: IPFSError.self) { try message.lengthPrefixedBuffer() }
        #expect(error?.code == .limitExceeded)
    }

    @Test func prefixesMatchTheSpec() throws {
        #expect(CIDPrefix(cid: v0CID).bytes == [0x00, 0x70, 0x12, 0x20])
        #expect(CIDPrefix(cid: rawCID).bytes == [0x01, 0x55, 0x12, 0x20])
        #expect(try CIDPrefix(parsing: [0x00, 0x70, 0x12, 0x20]).cid(for: data) == v0CID)
        #expect(try CIDPrefix(parsing: [0x01, 0x55, 0x12, 0x20]).cid(for: data) == rawCID)
        // CIDv0 bytes on the wire are the bare multihash.
        let entry = BitswapMessage(wantlist: .init(entries: [.init(cid: v0CID)])).bytes
        #expect(entry.count == 2 + 2 + 2 + 34 + 2)
    }

    @Test func receivedBlocksRebuildTheirCIDsFromTheBytes() throws {
        var payload = BitswapMessage.Block(cid: rawCID, data: data)
        payload.data = Array("hello WORLD".utf8)
        let message = BitswapMessage(blocks: [data], payload: [payload])
        let received = message.receivedBlocks()
        let blocks = received.blocks
        #expect(received.unverifiable == 0)
        #expect(blocks.count == 2)
        #expect(blocks[0].cid != rawCID)
        #expect(blocks[0].cid == CID.v1(codec: .raw, multihash: .sha256(Array("hello WORLD".utf8))))
        #expect(blocks[1].cid == v0CID)
    }

    @Test(arguments: [
        [0x0a],                               // truncated length
        [0x0a, 0x05, 0x0a, 0x03, 0x01],       // entry shorter than declared
        [0x08, 0x01],                         // wantlist as a varint
        [0x0a, 0x02, 0x12, 0x00],             // entry without a CID
        [0x0a, 0x04, 0x0a, 0x02, 0x0a, 0x00], // entry with an empty CID
        [0x1a, 0x02, 0x12, 0x00],             // payload block without prefix
        [0x1a, 0x03, 0x0a, 0x01, 0x05],       // prefix with an unknown CID version
        [0x22, 0x02, 0x10, 0x07],             // presence without CID
        [0x2a, 0x00],                         // pendingBytes as bytes
        [0x0b],                               // group wire type
    ] as [[UInt8]])
    func refusesMalformedInput(_ bytes: [UInt8]) {
        #expect(throws: IPFSError.self) { try BitswapMessage(parsing: bytes) }
    }

    @Test func refusesAbsurdSizes() throws {
        let huge = [UInt8](repeating: 0, count: BitswapMessage.maxMessageSize + 1)
        let error = #expect(throws: IPFSError.self) { try BitswapMessage(parsing: huge) }
        #expect(error?.code == .limitExceeded)
        // pendingBytes beyond int32, an unknown wantType, a bool that is 2.
        #expect(throws: IPFSError.self) { try BitswapMessage(parsing: [0x28, 0x80, 0x80, 0x80, 0x80, 0x10]) }
        var entry = ProtobufWriter()
        entry.writeBytes(field: 1, rawCID.bytes)
        entry.writeVarint(field: 4, 9)
        var list = ProtobufWriter()
        list.writeBytes(field: 1, entry.bytes)
        var message = ProtobufWriter()
        message.writeBytes(field: 1, list.bytes)
        #expect(throws: IPFSError.self) { try BitswapMessage(parsing: message.bytes) }
        // More entries than allowed.
        let many = BitswapMessage(wantlist: .init(entries: Array(repeating: .init(cid: rawCID), count: BitswapMessage.maxEntries + 1)))
        let tooMany = #expect(throws: IPFSError.self) { try BitswapMessage(parsing: many.bytes) }
        #expect(tooMany?.code == .limitExceeded)
    }

    @Test func skipsUnknownFields() throws {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 9, 1)
        writer.writeVarint(field: 5, 7)
        let parsed = try BitswapMessage(parsing: writer.bytes)
        #expect(parsed.pendingBytes == 7)
    }
}

@Suite struct BitswapLedgerTests {
    func cid(_ n: Int) -> CID { CID.v1(codec: .raw, multihash: .sha256([UInt8(n)])) }

    @Test func answersByPriorityWithinTheByteBudgetAndHonoursCancels() {
        var ledger = BitswapLedger()
        ledger.apply(.init(entries: (0..<10).map { .init(cid: cid($0), priority: Int32($0)) }))
        ledger.apply(.init(entries: [.init(cid: cid(9), isCancel: true)]))
        #expect(ledger.count == 9)
        // Two blocks fit the budget, a third does not.
        let size = BitswapLedger.maxBatchBytes * 2 / 5
        let first = ledger.nextBatch { _ in size }
        #expect(first.map(\.entry.cid) == [cid(8), cid(7)])
        #expect(first.allSatisfy { $0.blockSize == size })
        // Blocks we lack cost only a presence.
        let rest = ledger.nextBatch { _ in nil }
        #expect(rest.count == 7)
        #expect(ledger.nextBatch { _ in size }.isEmpty)
    }

    @Test func theLargestBatchFitsInOneMessage() throws {
        // A full wantlist of sha2-512 CIDs: as many blocks as the budget allows, the rest
        // DONT_HAVE presences, then the largest single block alone.
        let blockSize = 1000
        let cids = try (0..<BitswapLedger.maxWantlistEntries).map {
            CID.v1(codec: .raw, multihash: try Multihash(code: .sha2_512, digest: pseudoRandomBytes(count: 64, seed: UInt64($0 * 2 + 1))))
        }
        var ledger = BitswapLedger()
        ledger.apply(.init(entries: cids.map { .init(cid: $0, wantType: .block, sendDontHave: true) }))
        let held = Set(cids.prefix(BitswapLedger.maxWantlistEntries / 2))
        let batch = ledger.nextBatch { held.contains($0) ? BitswapLedger.maxBatchBytes / held.count - blockSize / 2 : nil }
        #expect(batch.count == BitswapLedger.maxWantlistEntries)
        let message = BitswapMessage(
            payload: batch.compactMap { answer in answer.blockSize.map { .init(cid: answer.entry.cid, data: [UInt8](repeating: 1, count: $0)) } },
            blockPresences: batch.filter { $0.blockSize == nil }.map { .init(cid: $0.entry.cid, kind: .dontHave) })
        #expect(message.bytes.count <= BitswapMessage.maxMessageSize)
        let largest = BitswapMessage(payload: [.init(cid: cids[0], data: [UInt8](repeating: 1, count: Blockstore.maxBlockSize))])
        #expect(largest.bytes.count <= BitswapMessage.maxMessageSize)
    }

    @Test func fullWantlistReplacesAndSizeIsBounded() {
        var ledger = BitswapLedger()
        ledger.apply(.init(entries: (0..<(BitswapLedger.maxWantlistEntries + 10)).map {
            .init(cid: CID.v1(codec: .raw, multihash: .sha256(Array(String($0).utf8))))
        }))
        #expect(ledger.count == BitswapLedger.maxWantlistEntries)
        #expect(ledger.droppedEntries == 10)
        ledger.apply(.init(entries: [.init(cid: cid(1))], isFull: true))
        #expect(ledger.count == 1)
    }
}
