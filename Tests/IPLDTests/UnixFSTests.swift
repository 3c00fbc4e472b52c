import Foundation
import Multiformats
import Testing

@testable import IPLD

/// Collects emitted blocks, keyed by CID, checking each one's hash on the way in.
final class MemoryBlockStore {
    var blocks: [CID: [UInt8]] = [:]
    var order: [CID] = []

    func put(_ cid: CID, _ bytes: [UInt8]) throws {
        let block = try IPLDBlock(cid: cid, bytes: bytes)
        if blocks.updateValue(block.bytes, forKey: cid) == nil { order.append(cid) }
    }

    func get(_ cid: CID) throws -> [UInt8] {
        guard let bytes = blocks[cid] else { throw IPLDError(.blockNotFound, "\(cid)") }
        return bytes
    }
}

/// Deterministic test data (a simple LCG), so multi-chunk files differ chunk to chunk.
func deterministicBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

@Suite struct UnixFSTests {
    func importBytes(_ bytes: [UInt8], _ options: UnixFSImporter.Options = .kubo, store: MemoryBlockStore = MemoryBlockStore()) throws -> UnixFSImporter.Entry {
        try UnixFSImporter(options: options).importFile(bytes: bytes, sink: store.put)
    }

    @Test func kuboKnownCIDs() throws {
        let store = MemoryBlockStore()
        let hello = try importBytes(Array("hello world".utf8), store: store)
        #expect(hello.cid.description == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD")
        #expect(Vectors.hexString(try store.get(hello.cid)) == "0a110802120b68656c6c6f20776f726c64180b")
        #expect(try importBytes(Array("hello world\n".utf8)).cid.description == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
        #expect(try importBytes([]).cid.description == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
        let emptyDirectory = try UnixFSImporter().makeDirectory(entries: [], sink: store.put)
        #expect(emptyDirectory.cid.description == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn")
        let raw = try importBytes(Array("hello world".utf8), .kuboCIDv1)
        #expect(raw.cid.description == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
    }

    @Test func storachaPinpie() throws {
        let file = try Vectors.bytes(Vectors.storacha.appendingPathComponent("upload-service-pinpie.jpg"))
        let store = MemoryBlockStore()
        let importer = UnixFSImporter(options: .storacha)
        let root = try importer.importFile(bytes: file, sink: store.put)
        #expect(root.cid.description == "bafkreiajkbmpugz75eg2tmocmp3e33sg5kuyq2amzngslahgn6ltmqxxfa")
        let wrapped = try importer.wrapInDirectory(root, name: "pinpie.jpg", sink: store.put)
        #expect(wrapped.cid.description == "bafybeiajdopsmspomlrpaohtzo5sdnpknbolqjpde6huzrsejqmvijrcea")
        let exporter = UnixFSExporter(blockSource: store.get)
        #expect(try exporter.listDirectory(wrapped.cid).map(\.name) == ["pinpie.jpg"])
        #expect(try exporter.resolve(path: "pinpie.jpg", from: wrapped.cid) == root.cid)
        #expect(try exporter.readFile(root: root.cid) == file)
    }

    /// The lost-dog CAR (go-ucanto testdata) is a two-leaf CIDv1 raw-leaf file in a directory:
    /// exporting it and importing the bytes with Kubo's CIDv1 settings must rebuild both roots.
    @Test func lostDogRebuildsWithKuboCIDv1Settings() throws {
        var reader = try CARReader(bytes: Vectors.bytes(Vectors.storacha.appendingPathComponent("go-ucanto-lost-dog.jpg.car")))
        let store = MemoryBlockStore()
        for block in try reader.readAll() { try store.put(block.cid, block.bytes) }
        let root = try #require(reader.header.roots.first)
        let exporter = UnixFSExporter(blockSource: store.get)
        let entries = try exporter.listDirectory(root)
        let entry = try #require(entries.first)
        let file = try exporter.readFile(root: entry.cid)
        #expect(file.count == Int(try UnixFSData(parsing: PBNode(parsing: store.get(entry.cid)).data ?? []).fileSize ?? 0))
        let rebuilt = MemoryBlockStore()
        let importer = UnixFSImporter(options: .kuboCIDv1)
        let fileEntry = try importer.importFile(bytes: file, sink: rebuilt.put)
        #expect(fileEntry.cid == entry.cid)
        #expect(try importer.wrapInDirectory(fileEntry, name: entry.name, sink: rebuilt.put).cid == root)
    }

    @Test func multiChunkFileRoundTrips() throws {
        let file = deterministicBytes((1 << 20) + 1)
        let store = MemoryBlockStore()
        var progress: [UInt64] = []
        let root = try UnixFSImporter().importFile(bytes: file, progress: { progress.append($0) }, sink: store.put)
        #expect(root.fileSize == UInt64(file.count))
        #expect(store.blocks.count == 6)  // 5 leaves + 1 root
        #expect(store.order.last == root.cid)
        #expect(progress.last == UInt64(file.count))
        #expect(progress == progress.sorted())
        let node = try PBNode(parsing: store.get(root.cid))
        #expect(node.links.count == 5)
        #expect(node.links.allSatisfy { $0.name == "" })
        #expect(try UnixFSExporter(blockSource: store.get).readFile(root: root.cid) == file)
        let cumulative = store.blocks.values.reduce(0) { $0 + $1.count }
        #expect(root.cumulativeSize == UInt64(cumulative))
    }

    @Test(arguments: [UnixFSImporter.Options(chunkSize: 64), UnixFSImporter.Options(chunkSize: 64, cidVersion: .v1, rawLeaves: true)])
    func twoLevelFileRoundTrips(options: UnixFSImporter.Options) throws {
        let file = deterministicBytes(64 * 400 + 7)  // 401 chunks: more than 174, needs depth 2
        let store = MemoryBlockStore()
        let root = try importBytes(file, options, store: store)
        let top = try PBNode(parsing: store.get(root.cid))
        #expect(top.links.count == 3)  // 174 + 174 + 53 leaves
        let firstChild = try PBNode(parsing: store.get(top.links[0].hash))
        #expect(firstChild.links.count == 174)
        #expect(top.links[0].hash.codec == .dagPB)
        let leafCodec = firstChild.links[0].hash.codec
        #expect(leafCodec == (options.rawLeaves ? .raw : .dagPB))
        #expect(try UnixFSExporter(blockSource: store.get).readFile(root: root.cid) == file)
    }

    @Test func balancedShapeMatchesBoxo() throws {
        // 10 one-byte chunks, 3 links per node: boxo builds depth 3:
        // root → [ [a b c] [d e f] [g h i] ], [ [j] ].
        let store = MemoryBlockStore()
        let root = try importBytes(Array(0..<10), UnixFSImporter.Options(chunkSize: 1, maxLinksPerNode: 3), store: store)
        let top = try PBNode(parsing: store.get(root.cid))
        #expect(top.links.count == 2)
        let left = try PBNode(parsing: store.get(top.links[0].hash))
        let right = try PBNode(parsing: store.get(top.links[1].hash))
        #expect(left.links.count == 3)
        #expect(right.links.count == 1)
        #expect(try PBNode(parsing: store.get(right.links[0].hash)).links.count == 1)
        #expect(try UnixFSExporter(blockSource: store.get).readFile(root: root.cid) == Array(0..<10))
    }

    @Test func tamperedBlockIsRefused() throws {
        let file = deterministicBytes(1000)
        let store = MemoryBlockStore()
        let root = try importBytes(file, UnixFSImporter.Options(chunkSize: 100), store: store)
        let leaf = try PBNode(parsing: store.get(root.cid)).links[3].hash
        store.blocks[leaf]![10] ^= 1
        #expect { try UnixFSExporter(blockSource: store.get).readFile(root: root.cid) } throws: {
            ($0 as? IPLDError)?.code == .hashMismatch
        }
    }

    @Test func wrongBlockSizesAreRefused() throws {
        let store = MemoryBlockStore()
        let a = try importBytes([1, 2, 3], store: store)
        let b = try importBytes([4, 5], store: store)
        let liar = PBNode(
            links: [PBLink(hash: a.cid, name: "", tsize: a.cumulativeSize), PBLink(hash: b.cid, name: "", tsize: b.cumulativeSize)],
            data: UnixFSData(type: .file, fileSize: 6, blockSizes: [3, 3]).bytes
        )
        let cid = liar.cid(version: .v0)
        try store.put(cid, liar.bytes)
        #expect { try UnixFSExporter(blockSource: store.get).readFile(root: cid) } throws: {
            ($0 as? IPLDError)?.code == .invalidDAG
        }
    }

    @Test func unknownNodeTypesAreRefused() throws {
        let store = MemoryBlockStore()
        for type in [UnixFSData.DataType.directory, .symlink, .hamtShard, .metadata, UnixFSData.DataType(rawValue: 9)] {
            let node = PBNode(data: UnixFSData(type: type, data: [1]).bytes)
            try store.put(node.cid(), node.bytes)
            #expect(throws: IPLDError.self) { try UnixFSExporter(blockSource: store.get).readFile(root: node.cid()) }
        }
        let cbor = try DAGCBOR.block(.int(1))
        try store.put(cbor.cid, cbor.bytes)
        #expect(throws: IPLDError.self) { try UnixFSExporter(blockSource: store.get).readFile(root: cbor.cid) }
    }

    @Test func depthBombIsRefused() throws {
        let store = MemoryBlockStore()
        var entry = try importBytes([7], store: store)
        for _ in 0...UnixFSExporter.maxDepth {
            let node = PBNode(
                links: [PBLink(hash: entry.cid, name: "", tsize: entry.cumulativeSize)],
                data: UnixFSData(type: .file, fileSize: 1, blockSizes: [1]).bytes
            )
            try store.put(node.cid(version: .v0), node.bytes)
            entry = UnixFSImporter.Entry(cid: node.cid(version: .v0), fileSize: 1, cumulativeSize: 0)
        }
        #expect { try UnixFSExporter(blockSource: store.get).readFile(root: entry.cid) } throws: {
            ($0 as? IPLDError)?.code == .limitExceeded
        }
    }

    @Test func cycleIsRefused() throws {
        // A real cycle cannot hash; a lying block source (hash checks off) can still serve one.
        let fakeCID = CID.v1(codec: .dagPB, multihash: .sha256([0xde, 0xad]))
        let loop = PBNode(
            links: [PBLink(hash: fakeCID, name: "", tsize: 1)],
            data: UnixFSData(type: .file, fileSize: 1, blockSizes: [1]).bytes
        )
        var exporter = UnixFSExporter(blockSource: { _ in loop.bytes })
        exporter.verifiesHashes = false
        #expect { try exporter.readFile(root: fakeCID) } throws: { ($0 as? IPLDError)?.code == .invalidDAG }
    }

    @Test func unixFSDataRoundTripsEveryField() throws {
        let data = UnixFSData(
            type: .hamtShard, data: [1, 2], fileSize: 9, blockSizes: [4, 5], hashType: 0x22, fanout: 256,
            mode: 0o644, mtime: .init(seconds: -5, fractionalNanoseconds: 7)
        )
        #expect(try UnixFSData(parsing: data.bytes) == data)
        #expect(throws: IPLDError.self) { try UnixFSData(parsing: [0x10, 0x01]) }  // no Type
        #expect(throws: IPLDError.self) { try UnixFSData(parsing: [0x08, 0x02, 0x08, 0x02]) }  // Type twice
    }
}

@Suite struct FileHandleTests {
    @Test func importsAndReadsCARFromFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ipld-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = deterministicBytes(300_000, seed: 9)
        let input = directory.appendingPathComponent("input")
        try Data(file).write(to: input)
        let store = MemoryBlockStore()
        let inputHandle = try FileHandle(forReadingFrom: input)
        let root = try UnixFSImporter().importFile(fileHandle: inputHandle, sink: store.put)
        try inputHandle.close()
        #expect(root == (try UnixFSImporter().importFile(bytes: file, sink: { _, _ in })))
        let blocks = try store.order.map { try IPLDBlock(cid: $0, bytes: store.get($0)) }
        let carURL = directory.appendingPathComponent("file.car")
        try Data(CARWriter.encode(roots: [root.cid], blocks: blocks)).write(to: carURL)
        let carHandle = try FileHandle(forReadingFrom: carURL)
        defer { try? carHandle.close() }
        var reader = try CARReader(fileHandle: carHandle)
        let readBack = MemoryBlockStore()
        while let block = try reader.next() { try readBack.put(block.cid, block.bytes) }
        #expect(try UnixFSExporter(blockSource: readBack.get).readFile(root: reader.header.roots[0]) == file)
    }
}
