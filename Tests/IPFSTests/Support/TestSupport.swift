import Foundation
import IPLD
import LibP2P
import Logging
import Multiformats
import Testing

@testable import IPFS

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ipfs-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Deterministic pseudo-random bytes (xorshift), so multi-block files have distinct chunks.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        var word = state
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}

/// A running host with an IPFS node in its own home.
final class RunningNode: Sendable {
    let host: LibP2P.Host
    let node: IPFSNode
    let address: Multiaddr
    let home: TemporaryDirectory
    private let task: Task<Void, Never>

    init(registerBitswap: Bool = true) async throws {
        var logger = Logger(label: "test.ipfs")
        logger.logLevel = .error
        let host = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: logger)
        let home = try TemporaryDirectory()
        let node = try IPFSNode(home: home.url, host: host, logger: logger)
        if registerBitswap { node.register() }
        self.host = host
        self.node = node
        self.home = home
        self.task = Task { await host.run() }
        self.address = try #require(try await host.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
    }

    func stop() async {
        await host.shutdown()
        await task.value
        try? node.blockstore.close()
        home.cleanup()
    }
}
