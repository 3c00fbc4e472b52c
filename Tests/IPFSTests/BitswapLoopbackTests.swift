import Foundation
import IPLD
import LibP2P
import Multiformats
import NIOCore
import Synchronization
import Testing

@testable import IPFS

/// Two (or three) real hosts on loopback: Bitswap end to end over TCP, Noise and Yamux.
@Suite struct BitswapLoopbackTests {
    @Test(arguments: [CID.Version.v0, .v1])
    func fetchesAMultiBlockFileByteExactWithManyWantsInFlight(version: CID.Version) async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        // 3 MiB + a bit: 13 leaves of 256 KiB plus a root.
        let content = pseudoRandomBytes(count: 3 * 1024 * 1024 + 12345, seed: 42)
        let root = try alice.node.add(bytes: content, cidVersion: version)
        #expect(try alice.node.blockstore.count() == 14)

        let counter = Mutex(0)
        let maxInFlight = Mutex(0)
        let output = bob.home.url.appendingPathComponent("out.bin")
        let report = try await bob.node.get(cid: root, from: [alice.address], to: output) { progress in
            counter.withLock { $0 += 1 }
            maxInFlight.withLock { $0 = max($0, progress.inFlight) }
        }
        #expect(report.blocksFetched == 14)
        #expect(report.bytesFetched == (try alice.node.blockstore.usage()))
        #expect(report.droppedPeers.isEmpty)
        #expect(try Data(contentsOf: output) == Data(content))
        #expect(counter.withLock { $0 } > 0)
        // After the root, all 13 leaves were wanted at once.
        #expect(maxInFlight.withLock { $0 } >= 12)
        #expect(try bob.node.blockstore.pinnedRoots() == [root])
        #expect(alice.node.bitswap.served.blocks == 14)

        // A second fetch needs nothing from the network.
        let again = try await bob.node.fetch(cid: root, from: [alice.address])
        #expect(again.blocksFetched == 0)
        #expect(again.blocksAlreadyPresent == 14)
        await bob.stop()
        await alice.stop()
    }

    @Test func missingBlockFailsWithBlockNotFound() async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        let absent = CID.v1(codec: .raw, multihash: .sha256(Array("nobody has this".utf8)))
        let error = await #expect(throws: IPFSError.self) {
            try await bob.node.fetch(cid: absent, from: [alice.address])
        }
        #expect(error?.code == .blockNotFound)
        // A failed fetch pins nothing (the next collection may free what it got).
        #expect(try bob.node.blockstore.pinnedRoots().isEmpty)
        await bob.stop()
        await alice.stop()
    }

    @Test func lyingPeerIsDroppedAndNothingCorruptIsStored() async throws {
        let alice = try await RunningNode()
        let liar = try await RunningNode(registerBitswap: false)
        Liar.install(on: liar.host)
        let bob = try await RunningNode()
        let content = pseudoRandomBytes(count: 2 * 1024 * 1024, seed: 7)
        let root = try alice.node.add(bytes: content, cidVersion: .v1)
        let blockCount = try alice.node.blockstore.count()

        // Only the liar: the fetch fails and nothing enters the store.
        let error = await #expect(throws: IPFSError.self) {
            try await bob.node.fetch(cid: root, from: [liar.address], options: .init(wantTimeout: .seconds(60), maxStrikes: 1))
        }
        #expect(error?.code == .peerUnavailable)
        #expect(try bob.node.blockstore.count() == 0)

        // Liar and honest peer: the liar is detected, the file arrives intact.
        let report = try await bob.node.fetch(cid: root, from: [liar.address, alice.address], options: .init(wantTimeout: .seconds(60), maxStrikes: 1))
        #expect(report.droppedPeers == [liar.host.peerID])
        #expect(try bob.node.blockstore.count() == blockCount)
        #expect(try bob.node.cat(cid: root) == content)
        await bob.stop()
        await liar.stop()
        await alice.stop()
    }

    @Test func aRottedBlockServedIsRefusedAndReAddingRepairsIt() async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        let content = pseudoRandomBytes(count: 700_000, seed: 13)
        let root = try alice.node.add(bytes: content, cidVersion: .v1)
        let rootBytes = try #require(try alice.node.blockstore.get(root))
        let leaf = try #require(try BlockLinks.links(of: root, bytes: rootBytes).first)
        var rotted = try #require(try alice.node.blockstore.get(leaf))
        rotted[77] ^= 0x40
        try alice.node.blockstore.overwriteUnverified(leaf, with: rotted)

        // Alice serves what is on her disk; Bob hashes it, refuses it and stores nothing of it.
        let output = bob.home.url.appendingPathComponent("out.bin")
        await #expect(throws: IPFSError.self) {
            try await bob.node.get(cid: root, from: [alice.address], to: output, options: .init(wantTimeout: .seconds(1), maxAttemptsPerPeer: 1))
        }
        #expect(try bob.node.blockstore.has(leaf) == false)
        #expect(!FileManager.default.fileExists(atPath: output.path))

        // Adding the file again mends Alice's copy; Bob's next attempt gets the file intact.
        #expect(try alice.node.add(bytes: content, cidVersion: .v1) == root)
        _ = try await bob.node.get(cid: root, from: [alice.address], to: output)
        #expect(try Data(contentsOf: output) == Data(content))
        await bob.stop()
        await alice.stop()
    }

    @Test func getOfAMissingFileFailsAndWritesNothing() async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        let absent = CID.v1(codec: .raw, multihash: .sha256(Array("nobody has this either".utf8)))
        let output = bob.home.url.appendingPathComponent("out.bin")
        let error = await #expect(throws: IPFSError.self) {
            try await bob.node.get(cid: absent, from: [alice.address], to: output)
        }
        #expect(error?.code == .blockNotFound)
        // Neither the file nor the export's temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: bob.home.url.path).filter { $0.contains("out.bin") }.isEmpty)
        await bob.stop()
        await alice.stop()
    }

    @Test func getOfADAGThatIsNotAFileFailsAndWritesNothing() async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        // A raw block is a file, a DAG-CBOR block is not: the export refuses it at once.
        let cbor: [UInt8] = [0xa1, 0x61, 0x61, 0x01]
        let cid = CID.v1(codec: .dagCBOR, multihash: .sha256(cbor))
        try alice.node.blockstore.put(cbor, for: cid)
        let output = bob.home.url.appendingPathComponent("out.bin")
        await #expect(throws: (any Error).self) {
            try await bob.node.get(cid: cid, from: [alice.address], to: output)
        }
        #expect(!FileManager.default.fileExists(atPath: output.path))
        await bob.stop()
        await alice.stop()
    }

    @Test func exportRemovesAndReportsACorruptStoredBlock() async throws {
        let node = try await RunningNode()
        let content = pseudoRandomBytes(count: 600_000, seed: 11)
        let root = try node.node.add(bytes: content, cidVersion: .v1)
        let rootBytes = try #require(try node.node.blockstore.get(root))
        let leaf = try #require(try BlockLinks.links(of: root, bytes: rootBytes).last)
        try node.node.blockstore.overwriteUnverified(leaf, with: Array(repeating: 7, count: 1000))
        let error = #expect(throws: IPFSError.self) {
            try node.node.export(cid: root, to: node.home.url.appendingPathComponent("out.bin"))
        }
        #expect(error?.code == .corruptBlock)
        #expect(try node.node.blockstore.has(leaf) == false)
        await node.stop()
    }

    @Test func carExportImportRoundTrip() async throws {
        let alice = try await RunningNode()
        let bob = try await RunningNode()
        let content = pseudoRandomBytes(count: 700_000, seed: 9)
        let root = try alice.node.add(bytes: content, cidVersion: .v1)
        let car = alice.home.url.appendingPathComponent("file.car")
        #expect(try alice.node.exportCAR(root: root, to: car) == 4)
        #expect(try bob.node.importCAR(from: car) == [root])
        #expect(try bob.node.cat(cid: root) == content)
        #expect(try bob.node.blockstore.pinnedRoots() == [root])
        await bob.stop()
        await alice.stop()
    }

    @Test func addGivesKuboCIDs() async throws {
        let node = try await RunningNode()
        #expect(try node.node.add(bytes: Array("hello world".utf8)).description == "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD")
        #expect(try node.node.add(bytes: Array("hello world".utf8), cidVersion: .v1).description == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        await node.stop()
    }
}

/// A Bitswap server that answers every want-block inline with the right prefix and wrong bytes.
enum Liar {
    static func install(on host: LibP2P.Host) {
        for protocolID in Bitswap.protocolIDs {
            host.setHandler(for: protocolID) { incoming in
                var reader = BitswapMessageReader(incoming.stream)
                while let message = try await reader.next() {
                    let blocks = (message.wantlist?.entries ?? []).filter { !$0.isCancel }.map { entry in
                        BitswapMessage.Block(cid: entry.cid, data: Array("not the block you want \(entry.cid)".utf8))
                    }
                    guard !blocks.isEmpty else { continue }
                    try await Bitswap.write(BitswapMessage(payload: blocks), to: incoming.stream)
                }
            }
        }
    }
}
