import Foundation
import LibP2P
import Logging
import Multiformats

/// A throughput benchmark of a real mailbox on loopback: `senders` throwaway hosts deposit
/// 1 KiB envelopes concurrently (each on one stream, one request after another), then one
/// recipient drains a queue of `drain` envelopes with list/fetch/acknowledge batches.
/// For `p2pchat-bench` (release builds); the database lives in a temporary directory.
public enum MailboxBenchmark {
    /// The envelope size measured.
    public static let envelopeLength = 1024

    /// Runs the benchmark and returns deposits per second and the drain time in seconds.
    public static func run(senders: Int, deposits: Int, drain: Int) async throws -> (depositsPerSecond: Double, drainSeconds: Double) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mailbox-bench-\(UInt64.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: home) }
        var configuration = MailboxConfiguration()
        configuration.maxEnvelopesPerQueue = UInt64(max(deposits, drain) + 1)
        configuration.maxBytesPerQueue = UInt64(max(deposits, drain) + 1) * UInt64(envelopeLength)
        configuration.depositBurst = Double(max(deposits, drain))
        configuration.requestBurst = Double(max(deposits, drain) * 2)
        var logger = Logger(label: "mailbox.bench")
        logger.logLevel = .error
        let server = try MailboxServer(home: home, configuration: configuration, logger: logger)
        let serverHost = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: logger)
        server.register(on: serverHost)
        let senderHosts = (0..<max(1, senders)).map { _ in MailboxClient.makeThrowawayHost(logger: logger) }
        let recipientHost = MailboxClient.makeThrowawayHost(logger: logger)
        let hosts = [serverHost, recipientHost] + senderHosts

        return try await withThrowingTaskGroup(of: Void.self) { group in
            for host in hosts { group.addTask { await host.run() } }
            group.addTask { await server.run() }
            defer { group.cancelAll() }
            let address = try await serverHost.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))[0]
            let recipient = MailboxClient(host: recipientHost)
            let depositQueue = try await recipient.createQueue(at: address)
            let drainQueue = try await recipient.createQueue(at: address)

            // Sessions first, so the timing covers deposits only.
            var sessions: [MailboxSession] = []
            for host in senderHosts { sessions.append(try await MailboxClient(host: host).session(to: address)) }
            let perSender = max(1, deposits / sessions.count)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for session in sessions {
                    senders.addTask {
                        var envelopes = EnvelopeSource()
                        for _ in 0..<perSender {
                            _ = try await session.deposit(envelopes.next(), to: depositQueue.address)
                        }
                    }
                }
                try await senders.waitForAll()
            }
            let depositTime = ContinuousClock.now - start
            let depositsPerSecond = Double(perSender * sessions.count) / depositTime.seconds

            // Fill the drain queue, then time one recipient draining it.
            let fillPerSender = max(1, drain / sessions.count)
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for session in sessions {
                    senders.addTask {
                        var envelopes = EnvelopeSource()
                        for _ in 0..<fillPerSender {
                            _ = try await session.deposit(envelopes.next(), to: drainQueue.address)
                        }
                    }
                }
                try await senders.waitForAll()
            }
            let reader = try await recipient.session(to: address)
            let drainStart = ContinuousClock.now
            let drained = try await reader.drain(drainQueue)
            let drainTime = ContinuousClock.now - drainStart
            guard drained.envelopes.count == fillPerSender * sessions.count else {
                throw MailboxError(.internalError, "drained \(drained.envelopes.count) of \(fillPerSender * sessions.count) envelopes")
            }
            for session in sessions { await session.close() }
            await reader.close()
            for host in hosts { await host.shutdown() }
            return (depositsPerSecond, drainTime.seconds)
        }
    }

    /// Random bytes standing in for ciphertext, one envelope at a time, from a SplitMix64
    /// stream seeded by the system generator. The mailbox cannot tell them from real
    /// ciphertext; drawing them from `SystemRandomNumberGenerator` would make a `getrandom`
    /// system call per 8 bytes and cost the senders more CPU than the mailbox spends storing.
    private struct EnvelopeSource {
        private var state: UInt64

        init() {
            var system = SystemRandomNumberGenerator()
            state = system.next()
        }

        mutating func next() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: envelopeLength) { buffer, count in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                for offset in stride(from: 0, to: envelopeLength, by: 8) {
                    state &+= 0x9E37_79B9_7F4A_7C15
                    var word = state
                    word = (word ^ (word >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    word = (word ^ (word >> 27)) &* 0x94D0_49BB_1331_11EB
                    raw.storeBytes(of: word ^ (word >> 31), toByteOffset: offset, as: UInt64.self)
                }
                count = envelopeLength
            }
        }
    }
}

extension Duration {
    fileprivate var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
