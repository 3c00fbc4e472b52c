import Foundation
@testable import Mailbox
import Multiformats
import Testing

/// The group-commit deposit writer on a real SQLite file, without the network.
@Suite struct MailboxStoreTests {
    /// Concurrent deposits share transactions (after the commit window) and each caller gets
    /// its own outcome: distinct positions, a duplicate recognised within the same burst, a
    /// quota refusal that does not disturb the others, and all of it still there after a reopen.
    @Test func concurrentDepositsGetTheirOwnOutcomesAndSurviveAReopen() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("mailbox-store-\(UInt64.random(in: 0 ... .max))")
        defer { try? FileManager.default.removeItem(at: home) }
        let queue = QueueID.random()
        let envelopes = (0..<300).map { _ in randomBytes(100) }
        let maxCount: UInt64 = 250
        func deposit(_ envelope: [UInt8]) -> MailboxStore.Deposit {
            .init(
                queueID: queue, cid: .v1(codec: .raw, multihash: .sha256(envelope)), data: envelope, expiresAt: .max / 2,
                maxCount: maxCount, maxBytes: .max / 2)
        }

        let store = try MailboxStore(directory: home, commitWindow: .milliseconds(2))
        try await store.createQueue(.init(id: queue, recipientKey: randomBytes(32), senderKey: randomBytes(32), pushEndpoint: nil), maxQueues: 10)
        // Every envelope once, the first ten twice, all at the same time.
        let outcomes = try await withThrowingTaskGroup(of: MailboxStore.DepositOutcome.self) { group in
            for envelope in envelopes + envelopes.prefix(10) {
                group.addTask { try await store.deposit(deposit(envelope)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        var stored: [UInt64] = []
        var duplicates: [UInt64] = []
        var refusals = 0
        for outcome in outcomes {
            switch outcome {
            case .stored(let sequence): stored.append(sequence)
            case .duplicate(let sequence): duplicates.append(sequence)
            case .refused(let error):
                #expect(error.code == .quotaCount)
                refusals += 1
            }
        }
        #expect(stored.sorted() == Array(1...maxCount))
        #expect(duplicates.count + refusals == envelopes.count + 10 - Int(maxCount))
        #expect(duplicates.allSatisfy { stored.contains($0) })
        try store.close()

        let reopened = try MailboxStore(directory: home)
        let entries = try await reopened.list(queue, after: 0, limit: 1000, now: 0)
        #expect(entries.map(\.sequence) == Array(1...maxCount))
        #expect(try await reopened.status(of: queue)?.count == maxCount)
        try reopened.close()
    }
}
