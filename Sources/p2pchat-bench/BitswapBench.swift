import Foundation
import IPFS
import LibP2P
import Logging
import Multiformats

/// us->us Bitswap with both nodes in one long-lived process, as Kubo's helper runs its nodes:
/// one server adds a random file once; each round a fresh fetcher (new host, new home) gets it
/// to a file with `IPFSNode.get`, timed from the call to the synced file. Returns bytes/s per
/// round. Unlike `p2pchat ipfs get`, no process start-up and a runtime already warm after the
/// first round.
func bitswapInProcessThroughput(megabytes: Int, rounds: Int) async throws -> [Double] {
    let quiet = {
        var logger = Logger(label: "bench.bitswap")
        logger.logLevel = .critical
        return logger
    }()
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("bench-bitswap-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    let total = megabytes << 20
    var content = [UInt8](repeating: 0, count: total)
    content.withUnsafeMutableBytes { bytes in
        var generator = SystemRandomNumberGenerator()
        for index in stride(from: 0, to: bytes.count, by: 8) {
            bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
        }
    }
    let serverHost = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: quiet)
    let server = try IPFSNode(home: base.appendingPathComponent("server"), host: serverHost, logger: quiet)
    server.register()
    let cid = try server.add(bytes: content)
    content = []
    return try await serverHost.withRunning { serverHost in
        let address = try await serverHost.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))[0]
        var runs: [Double] = []
        for round in 0..<rounds {
            let home = base.appendingPathComponent("fetcher-\(round)")
            let host = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: quiet)
            let fetcher = try IPFSNode(home: home, host: host, logger: quiet)
            fetcher.register()
            let output = home.appendingPathComponent("out.bin")
            let elapsed = try await host.withRunning { _ in
                try await ContinuousClock().measure {
                    _ = try await fetcher.get(cid: cid, from: [address], to: output)
                }
            }
            runs.append(Double(total) / seconds(elapsed))
            try fetcher.blockstore.close()
            try? FileManager.default.removeItem(at: home)
        }
        return runs
    }
}
