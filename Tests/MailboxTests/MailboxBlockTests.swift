import Foundation
import LibP2P
@testable import Mailbox
import Multiformats
import Testing

/// Attachment blocks in queues (protocol version 2): quota, authorization, hash checks,
/// expiry, acknowledgement and durability.
@Suite struct MailboxBlockTests {
    func block(_ bytes: [UInt8]) -> MailboxResponse.Block {
        MailboxResponse.Block(cid: CID.v1(codec: .raw, multihash: .sha256(bytes)), data: bytes)
    }

    func signedRequest(
        _ operation: MailboxRequest.Operation, version: UInt32, queue: QueueID, clock: MailboxClock, mailbox: PeerID,
        sign: (_ message: [UInt8]) throws -> [UInt8]
    ) throws -> [UInt8] {
        let body = MailboxRequest.Body(operation: operation, queueID: queue, timestamp: clock.now(), nonce: randomBytes(16)).encode()
        let signature = try sign(MailboxRequest.signingInput(body: body, mailboxPeerID: mailbox.multihash.bytes))
        return MailboxRequest(version: version, bodyBytes: body, signature: signature).encode()
    }

    @Test func depositBlocksRequestRoundTrips() throws {
        let blocks = [block([1, 2, 3]), block(randomBytes(1000))]
        let body = MailboxRequest.Body(
            operation: .depositBlocks(blocks, ttlSeconds: 60), queueID: .random(), timestamp: 7, nonce: randomBytes(16))
        #expect(try MailboxRequest.Body(parsing: body.encode()) == body)
        let fetch = MailboxRequest.Body(operation: .fetchBlocks(blocks.map(\.cid)), queueID: .random(), timestamp: 7, nonce: randomBytes(16))
        #expect(try MailboxRequest.Body(parsing: fetch.encode()) == fetch)
        // An oversized block is refused while parsing, with its own code.
        let huge = MailboxRequest.Body(
            operation: .depositBlocks([block(randomBytes(MailboxProtocol.maxBlockLength + 1))], ttlSeconds: 0), queueID: .random(),
            timestamp: 7, nonce: randomBytes(16))
        #expect(throws: MailboxError.self) { try MailboxRequest.Body(parsing: huge.encode()) }
        do {
            _ = try MailboxRequest.Body(parsing: huge.encode())
        } catch let error as MailboxError {
            #expect(error.code == .blockTooLarge)
        }
    }

    @Test func blocksAreCountedAgainstTheByteQuotaAndDeduplicated() async throws {
        var configuration = MailboxConfiguration()
        configuration.maxBytesPerQueue = 100_000
        let mailbox = try await RunningMailbox(configuration: configuration)
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let first = [block(randomBytes(30_000)), block(randomBytes(30_000))]
        #expect(try await client.client.depositBlocks(first, to: credentials.address) == 2)
        // The same blocks again are not stored (or counted) twice.
        #expect(try await client.client.depositBlocks(first, to: credentials.address) == 0)
        var status = try await client.client.status(of: credentials)
        #expect(status.byteCount == 60_000)
        #expect(status.envelopeCount == 0)
        // A batch that does not fit is refused whole.
        await expectMailboxError(.quotaBytes) {
            try await client.client.depositBlocks([block(randomBytes(20_000)), block(randomBytes(30_000))], to: credentials.address)
        }
        // Envelopes share the quota.
        await expectMailboxError(.quotaBytes) { try await client.client.deposit(randomBytes(45_000), to: credentials.address) }
        status = try await client.client.status(of: credentials)
        #expect(status.byteCount == 60_000)
        #expect(try await mailbox.server.store.blockCount(of: credentials.queueID) == 2)
        // Fetch is byte-exact; acknowledging frees the quota.
        let fetched = try await client.client.fetchBlocks(first.map(\.cid) + [block([9]).cid], from: credentials)
        #expect(fetched.envelopes == first)
        #expect(fetched.missing == [block([9]).cid])
        #expect(try await client.client.acknowledgeBlocks(first.map(\.cid), in: credentials) == 2)
        status = try await client.client.status(of: credentials)
        #expect(status.byteCount == 0)
        #expect(try await mailbox.server.store.blockCount(of: credentials.queueID) == 0)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func strangersWrongHashesAndOldVersionsAreRefused() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let good = block(randomBytes(1000))
        // Deposits need the sender key; fetches and acknowledgements the recipient key.
        let stranger = try QueueAddress(mailbox: credentials.mailbox, queueID: credentials.queueID, senderKey: QueueSenderKey())
        await expectMailboxError(.unauthorized) { try await client.client.depositBlocks([good], to: stranger) }
        try await client.client.depositBlocks([good], to: credentials.address)
        let session = try await client.client.session(to: mailbox.address)
        let mailboxID = mailbox.node.host.peerID
        let bySender = try signedRequest(
            .fetchBlocks([good.cid]), version: MailboxProtocol.blocksVersion, queue: credentials.queueID, clock: .system,
            mailbox: mailboxID, sign: credentials.senderKey.sign)
        #expect(try await session.sendRaw(bySender).error?.code == .unauthorized)
        let ackBySender = try signedRequest(
            .acknowledgeBlocks([good.cid]), version: MailboxProtocol.blocksVersion, queue: credentials.queueID, clock: .system,
            mailbox: mailboxID, sign: credentials.senderKey.sign)
        #expect(try await session.sendRaw(ackBySender).error?.code == .unauthorized)
        // A block whose bytes are not its CID's is refused, and nothing of the batch is stored.
        let other = block(randomBytes(1000))
        let forged = MailboxResponse.Block(cid: block([7, 7]).cid, data: randomBytes(500))
        await expectMailboxError(.blockMismatch) { try await client.client.depositBlocks([other, forged], to: credentials.address) }
        #expect(try await mailbox.server.store.blockCount(of: credentials.queueID) == 1)
        // Block kinds need version 2.
        let oldVersion = try signedRequest(
            .depositBlocks([other], ttlSeconds: 0), version: MailboxProtocol.version, queue: credentials.queueID, clock: .system,
            mailbox: mailboxID, sign: credentials.senderKey.sign)
        let fresh = try await client.client.session(to: mailbox.address)
        #expect(try await fresh.sendRaw(oldVersion).error?.code == .unsupportedVersion)
        // Only depositBlocks may exceed the ordinary request size.
        let bigEnvelope = try signedRequest(
            .deposit(envelope: randomBytes(MailboxProtocol.maxRequestLength), ttlSeconds: 0), version: MailboxProtocol.version,
            queue: credentials.queueID, clock: .system, mailbox: mailboxID, sign: credentials.senderKey.sign)
        let third = try await client.client.session(to: mailbox.address)
        #expect(try await third.sendRaw(bigEnvelope).error?.code == .messageTooLarge)
        // A maximal block goes through.
        let large = block(randomBytes(MailboxProtocol.maxBlockLength))
        #expect(try await client.client.depositBlocks([large], to: credentials.address) == 1)
        #expect(try await client.client.fetchBlocks([large.cid], from: credentials).envelopes == [large])
        await session.close()
        await fresh.close()
        await third.close()
        await client.stop()
        try await mailbox.stop()
    }

    @Test func blocksExpire() async throws {
        let clock = ManualClock()
        let mailbox = try await RunningMailbox(clock: clock.mailboxClock)
        defer { mailbox.removeHome() }
        let client = try await RunningClient(clock: clock.mailboxClock)
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let short = block(randomBytes(2000))
        let long = block(randomBytes(3000))
        try await client.client.depositBlocks([short], to: credentials.address, ttlSeconds: 60)
        try await client.client.depositBlocks([long], to: credentials.address, ttlSeconds: 600)
        clock.advance(seconds: 61)
        let fetched = try await client.client.fetchBlocks([short.cid, long.cid], from: credentials)
        #expect(fetched.envelopes == [long])
        #expect(fetched.missing == [short.cid])
        #expect(try await mailbox.server.sweepExpired() == 1)
        #expect(try await client.client.status(of: credentials).byteCount == 3000)
        clock.advance(seconds: 600)
        #expect(try await mailbox.server.sweepExpired() == 1)
        #expect(try await client.client.status(of: credentials).byteCount == 0)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func restartKeepsBlocks() async throws {
        let first = try await RunningMailbox()
        defer { first.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: first.address)
        let blocks = (0..<5).map { _ in block(randomBytes(100_000)) }
        #expect(try await client.client.depositBlocks(blocks, to: credentials.address) == 5)
        await client.stop()
        try await first.stop()
        let second = try await RunningMailbox(home: first.home)
        let again = try await RunningClient()
        let moved = try QueueCredentials(
            mailbox: second.address, queueID: credentials.queueID,
            recipientKey: credentials.recipientKey, senderKey: credentials.senderKey)
        #expect(try await again.client.fetchBlocks(blocks.map(\.cid), from: moved).envelopes == blocks)
        #expect(try await again.client.acknowledgeBlocks(blocks.map(\.cid), in: moved) == 5)
        #expect(try await second.server.store.blockCount(of: credentials.queueID) == 0)
        await again.stop()
        try await second.stop()
    }
}
