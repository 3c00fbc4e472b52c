import Foundation
import LibP2P
@testable import Mailbox
import Multiformats
import Testing

/// Refusals, each with its own code: bad input, replay, quotas, rate limits, TTL, corruption.
@Suite struct MailboxLimitsTests {
    /// A signed request as `MailboxSession` would send it.
    func signedRequest(
        _ operation: MailboxRequest.Operation, queue: QueueID?, timestamp: UInt64, mailbox: PeerID,
        sign: (_ message: [UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let body = MailboxRequest.Body(operation: operation, queueID: queue, timestamp: timestamp, nonce: randomBytes(16)).encode()
        let signature = try sign(MailboxRequest.signingInput(body: body, mailboxPeerID: mailbox.multihash.bytes))
        return MailboxRequest(bodyBytes: body, signature: signature).encode()
    }

    @Test func replayedAndStaleRequestsAreRefused() async throws {
        let clock = ManualClock()
        let mailbox = try await RunningMailbox(clock: clock.mailboxClock)
        defer { mailbox.removeHome() }
        let client = try await RunningClient(clock: clock.mailboxClock)
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let mailboxID = mailbox.node.host.peerID
        let deposit = try signedRequest(
            .deposit(envelope: [1, 2, 3], ttlSeconds: 0), queue: credentials.queueID, timestamp: clock.mailboxClock.now(),
            mailbox: mailboxID, sign: credentials.senderKey.sign)
        let session = try await client.client.session(to: mailbox.address)
        #expect(try await session.sendRaw(deposit).error == nil)
        #expect(try await session.sendRaw(deposit).error?.code == .replayed)
        // Same on a new stream.
        let other = try await client.client.session(to: mailbox.address)
        #expect(try await other.sendRaw(deposit).error?.code == .replayed)
        // Once the window has passed, the same bytes are expired.
        clock.advance(seconds: MailboxConfiguration.defaultRequestWindowSeconds + 1)
        #expect(try await other.sendRaw(deposit).error?.code == .expiredRequest)
        // A request from the future, and one signed for another mailbox.
        let future = try signedRequest(
            .status, queue: credentials.queueID, timestamp: clock.mailboxClock.now() + 600_000, mailbox: mailboxID,
            sign: credentials.recipientKey.sign)
        #expect(try await other.sendRaw(future).error?.code == .expiredRequest)
        let elsewhere = try signedRequest(
            .status, queue: credentials.queueID, timestamp: clock.mailboxClock.now(), mailbox: client.node.host.peerID,
            sign: credentials.recipientKey.sign)
        #expect(try await other.sendRaw(elsewhere).error?.code == .unauthorized)
        // The queue holds the one deposit.
        #expect(try await client.client.status(of: credentials).envelopeCount == 1)
        await session.close()
        await other.close()
        await client.stop()
        try await mailbox.stop()
    }

    @Test func malformedAndOversizedRequestsCloseTheStreamAndTheHostKeepsServing() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)

        let garbage = try await client.client.session(to: mailbox.address)
        #expect(try await garbage.sendRaw([0xff, 0xff, 0x01, 0x02]).error?.code == .malformed)
        #expect(await garbage.isClosedByMailbox())

        let badVersion = try await client.client.session(to: mailbox.address)
        let request = MailboxRequest(version: 99, bodyBytes: [8, 8], signature: [UInt8](repeating: 0, count: 64)).encode()
        #expect(try await badVersion.sendRaw(request).error?.code == .unsupportedVersion)
        #expect(await badVersion.isClosedByMailbox())

        let oversized = try await client.client.session(to: mailbox.address)
        #expect(try await oversized.sendRaw(randomBytes(MailboxProtocol.maxRequestLength + 1)).error?.code == .messageTooLarge)
        #expect(await oversized.isClosedByMailbox())

        // An envelope over the limit fits in a request but is refused as too large.
        await expectMailboxError(.tooLarge) {
            try await client.client.deposit(randomBytes(MailboxProtocol.maxEnvelopeLength + 1), to: credentials.address)
        }
        // The client refuses to send requests over the message limit at all.
        await expectMailboxError(.messageTooLarge) {
            try await client.client.deposit(randomBytes(MailboxProtocol.maxRequestLength), to: credentials.address)
        }
        // Still serving.
        let receipt = try await client.client.deposit(randomBytes(MailboxProtocol.maxEnvelopeLength), to: credentials.address)
        #expect(try await client.client.fetch([receipt.cid], from: credentials).envelopes.count == 1)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func quotasAndRateLimitsHaveDistinctCodes() async throws {
        let clock = ManualClock()
        var configuration = MailboxConfiguration()
        configuration.maxEnvelopesPerQueue = 2
        configuration.maxBytesPerQueue = 150
        configuration.depositBurst = 5
        configuration.depositsPerSecond = 1
        configuration.requestBurst = 11
        configuration.requestsPerSecond = 1
        let mailbox = try await RunningMailbox(configuration: configuration, clock: clock.mailboxClock)
        defer { mailbox.removeHome() }
        let client = try await RunningClient(clock: clock.mailboxClock)
        let countQueue = try await client.client.createQueue(at: mailbox.address)  // request 1
        let bytesQueue = try await client.client.createQueue(at: mailbox.address)  // 2
        _ = try await client.client.deposit(randomBytes(10), to: countQueue.address)  // 3, deposit 1
        _ = try await client.client.deposit(randomBytes(10), to: countQueue.address)  // 4, deposit 2
        await expectMailboxError(.quotaCount) { try await client.client.deposit(randomBytes(10), to: countQueue.address) }  // 5, 3
        _ = try await client.client.deposit(randomBytes(100), to: bytesQueue.address)  // 6, 4
        await expectMailboxError(.quotaBytes) { try await client.client.deposit(randomBytes(51), to: bytesQueue.address) }  // 7, 5
        // Deposit bucket empty (5 taken, clock frozen).
        await expectMailboxError(.rateLimited) { try await client.client.deposit(randomBytes(1), to: bytesQueue.address) }  // 8
        // A duplicate still answers "duplicate" once a token is back.
        clock.advance(seconds: 1)
        #expect(try await client.client.status(of: bytesQueue).byteCount == 100)  // 9
        for _ in 0..<3 { _ = try await client.client.list(countQueue) }  // 10–12 (11 tokens + 1 refilled)
        await expectMailboxError(.rateLimited) { try await client.client.list(countQueue) }  // request bucket empty
        // Another connection (another throwaway host) has its own buckets.
        let other = try await RunningClient(clock: clock.mailboxClock)
        #expect(try await other.client.status(of: countQueue).envelopeCount == 2)
        await other.stop()
        await client.stop()
        try await mailbox.stop()
    }

    @Test func expirySweepRemovesOldEnvelopes() async throws {
        let clock = ManualClock()
        var configuration = MailboxConfiguration()
        configuration.maxTTLSeconds = 30 * 86400
        let mailbox = try await RunningMailbox(configuration: configuration, clock: clock.mailboxClock)
        defer { mailbox.removeHome() }
        let client = try await RunningClient(clock: clock.mailboxClock)
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let start = clock.mailboxClock.now()
        let short = try await client.client.deposit(randomBytes(10), to: credentials.address, ttlSeconds: 3600)
        let normal = try await client.client.deposit(randomBytes(10), to: credentials.address)
        let capped = try await client.client.deposit(randomBytes(10), to: credentials.address, ttlSeconds: 365 * 86400)
        let entries = try await client.client.list(credentials)
        #expect(entries.map(\.expiresAt) == [start + 3_600_000, start + 14 * 86_400_000, start + 30 * 86_400_000])

        clock.advance(seconds: 3601)
        #expect(try await mailbox.server.sweepExpired() == 1)
        #expect(try await client.client.list(credentials).map(\.cid) == [normal.cid, capped.cid])
        #expect(try await client.client.fetch([short.cid], from: credentials).missing == [short.cid])
        clock.advance(seconds: 14 * 86400)
        #expect(try await mailbox.server.sweepExpired() == 1)
        #expect(try await client.client.status(of: credentials).envelopeCount == 1)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func corruptStoredBytesAreReportedAndDropped() async throws {
        let first = try await RunningMailbox()
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: first.address)
        let good = randomBytes(600)
        let bad = randomBytes(600)
        let goodReceipt = try await client.client.deposit(good, to: credentials.address)
        let badReceipt = try await client.client.deposit(bad, to: credentials.address)
        await client.stop()
        try await first.stop()

        // Flip one byte of the stored envelope in the database file.
        var file = try [UInt8](Data(contentsOf: first.server.store.fileURL))
        let offset = try #require(file.firstIndex(ofSubsequence: Array(bad[200..<260])))
        file[offset + 10] ^= 0x01
        try Data(file).write(to: first.server.store.fileURL)

        let second = try await RunningMailbox(home: first.home)
        defer { second.removeHome() }
        let again = try await RunningClient()
        let moved = try QueueCredentials(
            mailbox: second.address, queueID: credentials.queueID, recipientKey: credentials.recipientKey, senderKey: credentials.senderKey)
        let fetched = try await again.client.fetch([goodReceipt.cid, badReceipt.cid], from: moved)
        #expect(fetched.envelopes.map(\.data) == [good])
        #expect(fetched.corrupt == [badReceipt.cid])
        // Dropped, never served.
        #expect(try await again.client.list(moved).map(\.cid) == [goodReceipt.cid])
        #expect(try await again.client.fetch([badReceipt.cid], from: moved).missing == [badReceipt.cid])
        await again.stop()
        try await second.stop()
    }
}
