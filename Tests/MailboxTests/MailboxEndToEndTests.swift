import Foundation
import LibP2P
@testable import Mailbox
import Multiformats
import Testing

/// Two real hosts on loopback, a real SQLite file: the mailbox protocol end to end.
@Suite struct MailboxEndToEndTests {
    @Test func createDepositListFetchAcknowledge() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let recipient = try await RunningClient()
        let sender = try await RunningClient()
        let credentials = try await recipient.client.createQueue(at: mailbox.address)
        let address = try QueueAddress(parsing: credentials.address.encode())

        let envelopes = (0..<5).map { _ in randomBytes(1024) }
        var cids: [CID] = []
        for envelope in envelopes {
            let receipt = try await sender.client.deposit(envelope, to: address)
            #expect(!receipt.wasDuplicate)
            #expect(receipt.cid == CID.v1(codec: .raw, multihash: .sha256(envelope)))
            cids.append(receipt.cid)
        }
        let entries = try await recipient.client.list(credentials)
        #expect(entries.map(\.cid) == cids)  // FIFO
        #expect(entries.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(entries.allSatisfy { $0.size == 1024 })
        let after = try await recipient.client.list(credentials, after: 2, limit: 2)
        #expect(after.map(\.cid) == Array(cids[2..<4]))

        let fetched = try await recipient.client.fetch(cids.reversed(), from: credentials)
        #expect(fetched.envelopes.map(\.data) == envelopes)  // deposit order
        #expect(fetched.missing.isEmpty && fetched.corrupt.isEmpty)

        #expect(try await recipient.client.status(of: credentials).envelopeCount == 5)
        #expect(try await recipient.client.acknowledge(cids, in: credentials) == 5)
        let status = try await recipient.client.status(of: credentials)
        #expect(status.envelopeCount == 0 && status.byteCount == 0)
        #expect(try await recipient.client.list(credentials).isEmpty)
        #expect(try await recipient.client.fetch([cids[0]], from: credentials).missing == [cids[0]])

        try await recipient.client.deleteQueue(credentials)
        await expectMailboxError(.unknownQueue) { try await sender.client.deposit(envelopes[0], to: address) }

        await recipient.stop()
        await sender.stop()
        try await mailbox.stop()
        // Acknowledged envelopes are gone from the file (secure_delete), and the file holds
        // no client peer id.
        let database = try mailbox.databaseBytes()
        #expect(!database.isEmpty)
        let leftovers = envelopes.filter { database.contains(subsequence: Array($0[100..<164])) }.count
        #expect(leftovers == 0)
        for peer in [recipient.node.host.peerID, sender.node.host.peerID] {
            let hasBinaryID = database.contains(subsequence: peer.multihash.bytes)
            let hasKeyBytes = database.contains(subsequence: Array(peer.multihash.digest.suffix(20)))
            let hasText = database.contains(subsequence: Array(peer.description.utf8))
            #expect(!hasBinaryID && !hasKeyBytes && !hasText)
        }
    }

    @Test func sameEnvelopeIsStoredOnceAndHasTheSameCIDEverywhere() async throws {
        let first = try await RunningMailbox()
        let second = try await RunningMailbox()
        defer { first.removeHome(); second.removeHome() }
        let client = try await RunningClient()
        let queueA = try await client.client.createQueue(at: first.address)
        let queueB = try await client.client.createQueue(at: second.address)
        #expect(queueA.queueID != queueB.queueID)
        let envelope = randomBytes(2000)
        let a1 = try await client.client.deposit(envelope, to: queueA.address)
        let a2 = try await client.client.deposit(envelope, to: queueA.address)
        let b = try await client.client.deposit(envelope, to: queueB.address)
        #expect(!a1.wasDuplicate && a2.wasDuplicate && !b.wasDuplicate)
        #expect(a1.cid == a2.cid && a1.cid == b.cid)
        #expect(try await client.client.status(of: queueA).envelopeCount == 1)
        #expect(try await client.client.list(queueA).count == 1)
        await client.stop()
        try await first.stop()
        try await second.stop()
    }

    @Test func strangersAndSendersCannotRead() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)
        let receipt = try await client.client.deposit(randomBytes(100), to: credentials.address)

        let stranger = try QueueCredentials(
            mailbox: credentials.mailbox, queueID: credentials.queueID, recipientKey: QueueRecipientKey(), senderKey: QueueSenderKey())
        let senderAsRecipient = try QueueCredentials(
            mailbox: credentials.mailbox, queueID: credentials.queueID,
            recipientKey: QueueRecipientKey(rawRepresentation: credentials.senderKey.rawRepresentation),
            senderKey: credentials.senderKey)
        for impostor in [stranger, senderAsRecipient] {
            await expectMailboxError(.unauthorized) { try await client.client.list(impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.fetch([receipt.cid], from: impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.acknowledge([receipt.cid], in: impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.status(of: impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.deleteQueue(impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.subscribe(to: impostor) }
            await expectMailboxError(.unauthorized) { try await client.client.setPushEndpoint("http://example.com/", for: impostor) }
        }
        // A stranger cannot deposit either; the recipient key is not a deposit key.
        await expectMailboxError(.unauthorized) { try await client.client.deposit([1], to: stranger.address) }
        let recipientAsSender = try QueueAddress(
            mailbox: credentials.mailbox, queueID: credentials.queueID,
            senderKey: QueueSenderKey(rawRepresentation: credentials.recipientKey.rawRepresentation))
        await expectMailboxError(.unauthorized) { try await client.client.deposit([1], to: recipientAsSender) }
        // An unknown queue id.
        let unknown = try QueueCredentials(
            mailbox: credentials.mailbox, queueID: .random(), recipientKey: credentials.recipientKey, senderKey: credentials.senderKey)
        await expectMailboxError(.unknownQueue) { try await client.client.list(unknown) }
        // Nothing was touched.
        #expect(try await client.client.status(of: credentials).envelopeCount == 1)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func subscriptionGetsLiveNotifications() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let recipient = try await RunningClient()
        let sender = try await RunningClient()
        let credentials = try await recipient.client.createQueue(at: mailbox.address)
        let subscription = try await recipient.client.subscribe(to: credentials)
        var iterator = subscription.makeAsyncIterator()
        // The subscribe answer came back, so the subscription is registered.
        let envelope = randomBytes(512)
        let receipt = try await sender.client.deposit(envelope, to: credentials.address)
        let notification = try await iterator.next()
        #expect(notification?.cid == receipt.cid)
        #expect(notification?.size == 512)
        #expect(notification?.sequence == 1)
        // A duplicate deposit does not notify; the next new one does.
        _ = try await sender.client.deposit(envelope, to: credentials.address)
        let second = try await sender.client.deposit(randomBytes(10), to: credentials.address)
        #expect(try await iterator.next()?.cid == second.cid)
        // Deleting the queue ends the feed.
        try await recipient.client.deleteQueue(credentials)
        #expect(try await iterator.next() == nil)
        await subscription.close()
        await recipient.stop()
        await sender.stop()
        try await mailbox.stop()
    }

    @Test func restartKeepsQueuesAndEnvelopes() async throws {
        let clock = ManualClock()
        let first = try await RunningMailbox(clock: clock.mailboxClock)
        let client = try await RunningClient(clock: clock.mailboxClock)
        let credentials = try await client.client.createQueue(at: first.address)
        let envelope = randomBytes(777)
        let receipt = try await client.client.deposit(envelope, to: credentials.address)
        try await first.stop()
        await client.stop()

        // Same home, new host (new address and peer id); the queue id and keys carry over.
        clock.advance(seconds: 1)
        let second = try await RunningMailbox(home: first.home, clock: clock.mailboxClock)
        defer { second.removeHome() }
        let again = try await RunningClient(clock: clock.mailboxClock)
        let moved = try QueueCredentials(
            mailbox: second.address, queueID: credentials.queueID, recipientKey: credentials.recipientKey, senderKey: credentials.senderKey)
        #expect(try await again.client.list(moved).map(\.cid) == [receipt.cid])
        #expect(try await again.client.fetch([receipt.cid], from: moved).envelopes.first?.data == envelope)
        #expect(try await again.client.deposit(randomBytes(5), to: moved.address).wasDuplicate == false)
        #expect(try await again.client.status(of: moved).envelopeCount == 2)
        await again.stop()
        try await second.stop()
    }
}

/// The benchmark hook runs end to end (small numbers; figures come from release builds).
@Suite struct MailboxBenchmarkSmokeTests {
    @Test func benchmarkRuns() async throws {
        let result = try await MailboxBenchmark.run(senders: 4, deposits: 200, drain: 300)
        #expect(result.depositsPerSecond > 0)
        #expect(result.drainSeconds > 0)
        print("mailbox debug-build smoke: \(Int(result.depositsPerSecond)) deposits/s, drain 300 in \(result.drainSeconds) s")
    }
}
