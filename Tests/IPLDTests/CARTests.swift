import Foundation
import Multiformats
import Testing

@testable import IPLD

@Suite struct CARTests {
    static let storachaCARs = Vectors.contents(of: Vectors.storacha).filter { $0.pathExtension == "car" }.map(\.lastPathComponent)

    /// Every Storacha CAR reads with every block verified; every DAG-CBOR block re-encodes to the
    /// same bytes, every DAG-PB block too; writing the blocks back gives the same CAR bytes.
    @Test(arguments: storachaCARs)
    func storachaCARRoundTrips(_ name: String) throws {
        let bytes = try Vectors.bytes(Vectors.storacha.appendingPathComponent(name))
        var reader = try CARReader(bytes: bytes)
        let blocks = try reader.readAll()
        for block in blocks {
            switch block.cid.codec {
            case .dagCBOR:
                let value = try DAGCBOR.decode(block.bytes)
                let encoded = try DAGCBOR.encode(value)
                #expect(encoded == block.bytes)
                #expect(DAGCBOR.cid(of: encoded) == block.cid)
            case .dagPB:
                #expect(try PBNode(parsing: block.bytes).bytes == block.bytes)
            default:
                break
            }
        }
        #expect(CARWriter.encode(roots: reader.header.roots, blocks: blocks) == bytes)
    }

    @Test func storachaCARsArePresent() {
        #expect(Self.storachaCARs.count == 6)
    }

    @Test func emptyCARHasNoRoots() throws {
        let bytes = try Vectors.bytes(Vectors.storacha.appendingPathComponent("upload-service-empty.car"))
        var reader = try CARReader(bytes: bytes)
        #expect(reader.header.roots.isEmpty)
        #expect(try reader.next() == nil)
        #expect(CARWriter.encode(roots: [], blocks: []) == Vectors.hex("11a265726f6f7473806776657273696f6e01"))
    }

    @Test func pinpieCARHoldsTheRawImport() throws {
        var reader = try CARReader(bytes: Vectors.bytes(Vectors.storacha.appendingPathComponent("upload-service-pinpie.car")))
        #expect(reader.header.roots.map(\.description) == ["bafkreiajkbmpugz75eg2tmocmp3e33sg5kuyq2amzngslahgn6ltmqxxfa"])
        let store = MemoryBlockStore()
        for block in try reader.readAll() { try store.put(block.cid, block.bytes) }
        let file = try UnixFSExporter(blockSource: store.get).readFile(root: reader.header.roots[0])
        #expect(file == (try Vectors.bytes(Vectors.storacha.appendingPathComponent("upload-service-pinpie.jpg"))))
    }

    @Test func codecFixturesCARVerifies() throws {
        var reader = try CARReader(bytes: Vectors.bytes(Vectors.codecFixtures.appendingPathComponent("fixtures.car")))
        let blocks = try reader.readAll()
        #expect(blocks.count > 100)
        for block in blocks where block.cid.codec == .dagCBOR {
            #expect(try DAGCBOR.encode(DAGCBOR.decode(block.bytes)) == block.bytes)
        }
    }

    func sampleCAR() throws -> (bytes: [UInt8], blocks: [IPLDBlock], root: CID) {
        let store = MemoryBlockStore()
        let root = try UnixFSImporter(options: UnixFSImporter.Options(chunkSize: 100)).importFile(bytes: deterministicBytes(1000), sink: store.put)
        let blocks = try store.order.map { try IPLDBlock(cid: $0, bytes: store.get($0)) }
        return (CARWriter.encode(roots: [root.cid], blocks: blocks), blocks, root.cid)
    }

    @Test func roundTripStreaming() throws {
        let (bytes, blocks, root) = try sampleCAR()
        // Feed the reader in awkward 7-byte reads.
        var offset = 0
        var reader = try CARReader(read: { maxCount in
            let end = min(bytes.count, offset + min(maxCount, 7))
            defer { offset = end }
            return Array(bytes[offset..<end])
        })
        #expect(reader.header.roots == [root])
        #expect(try reader.readAll() == blocks)
    }

    @Test func truncatedCARIsRefused() throws {
        let (bytes, _, _) = try sampleCAR()
        for cut in [1, 5, 30, bytes.count - 1] {
            #expect(throws: IPLDError.self, "cut at \(cut)") {
                var reader = try CARReader(bytes: Array(bytes.prefix(cut)))
                _ = try reader.readAll()
            }
        }
    }

    @Test func wrongHashBlockIsRefused() throws {
        let (bytes, _, _) = try sampleCAR()
        var tampered = bytes
        tampered[tampered.count - 1] ^= 0x01
        var reader = try CARReader(bytes: tampered)
        #expect { _ = try reader.readAll() } throws: { ($0 as? IPLDError)?.code == .hashMismatch }
    }

    @Test func absurdLengthsAreRefusedBeforeAllocating() throws {
        let header = CARWriter.encode(roots: [], blocks: [])
        // A section claiming 2^62 bytes.
        #expect { var reader = try CARReader(bytes: header + [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]); _ = try reader.next() } throws: {
            ($0 as? IPLDError)?.code == .limitExceeded
        }
        #expect { _ = try CARReader(bytes: [0xff, 0xff, 0xff, 0x7f]) } throws: { ($0 as? IPLDError)?.code == .limitExceeded }
        // Header version 2, and a header that is not a map.
        let v2 = try DAGCBOR.encode(.map(["roots": .list([]), "version": .int(2)]))
        #expect(throws: IPLDError.self) { try CARReader(bytes: Varint.encode(UInt64(v2.count)) + v2) }
        #expect(throws: IPLDError.self) { try CARReader(bytes: [0x01, 0x01]) }
    }
}
