import LibP2P
@testable import Mailbox
import Multiformats
import Testing

/// Wire and storage formats, the replay cache and the token bucket, without sockets.
@Suite struct MailboxCodecTests {
    @Test func requestBodyRoundTripsForEveryOperation() throws {
        let cid = CID.v1(codec: .raw, multihash: .sha256([1, 2, 3]))
        let operations: [MailboxRequest.Operation] = [
            .createQueue(recipientKey: randomBytes(32), senderKey: randomBytes(32)),
            .deposit(envelope: randomBytes(100), ttlSeconds: 60), .deposit(envelope: [], ttlSeconds: 0),
            .list(afterSequence: 7, limit: 100), .fetch([cid, cid]), .acknowledge([cid]), .subscribe, .deleteQueue, .status,
            .setPushEndpoint("http://a/b"), .setPushEndpoint(nil),
        ]
        for operation in operations {
            let queue: QueueID? = operation.kind == .createQueue ? nil : .random()
            let body = MailboxRequest.Body(operation: operation, queueID: queue, timestamp: 123, nonce: randomBytes(16))
            #expect(try MailboxRequest.Body(parsing: body.encode()) == body)
        }
        let request = MailboxRequest(bodyBytes: [1, 2, 3], signature: randomBytes(64))
        #expect(try MailboxRequest(parsing: request.encode()) == request)
    }

    @Test func badRequestBodiesAreMalformed() throws {
        let good = MailboxRequest.Body(operation: .status, queueID: .random(), timestamp: 1, nonce: randomBytes(16)).encode()
        var cases: [[UInt8]] = [[], [0xff], Array(good.dropLast()), randomBytes(50)]
        // Wrong nonce length, missing queue id, short keys, unknown kind.
        cases.append(MailboxRequest.Body(operation: .status, queueID: .random(), timestamp: 1, nonce: [1]).encode())
        cases.append(MailboxRequest.Body(operation: .status, queueID: nil, timestamp: 1, nonce: randomBytes(16)).encode())
        cases.append(MailboxRequest.Body(operation: .createQueue(recipientKey: [1], senderKey: [2]), queueID: nil, timestamp: 1, nonce: randomBytes(16)).encode())
        var unknownKind = ProtobufWriter()
        unknownKind.writeVarint(field: 1, 77)
        cases.append(unknownKind.bytes)
        for bytes in cases {
            do {
                _ = try MailboxRequest.Body(parsing: bytes)
                Issue.record("parsed \(bytes.count) bad bytes")
            } catch let error as MailboxError {
                #expect(error.code == .malformed)
            }
        }
        // Too many CIDs is a distinct refusal.
        let cid = CID.v1(codec: .raw, multihash: .sha256([1]))
        let many = MailboxRequest.Body(
            operation: .fetch(Array(repeating: cid, count: MailboxProtocol.maxCIDsPerRequest + 1)), queueID: .random(), timestamp: 1,
            nonce: randomBytes(16)).encode()
        #expect(throws: MailboxError(.invalidRequest, "more than \(MailboxProtocol.maxCIDsPerRequest) CIDs in one request")) {
            try MailboxRequest.Body(parsing: many)
        }
    }

    @Test func responseRoundTrips() throws {
        let cid = CID.v1(codec: .raw, multihash: .sha256([9]))
        var response = MailboxResponse()
        response.queueID = .random()
        response.cid = cid
        response.duplicate = true
        response.entries = [.init(cid: cid, size: 5, sequence: 2, expiresAt: 99)]
        response.blocks = [.init(cid: cid, data: [9])]
        response.missing = [cid]
        response.corrupt = [cid]
        response.count = 3
        response.byteCount = 4
        response.maxCount = 5
        response.maxBytes = 6
        response.hasPush = true
        response.notification = .init(cid: cid, size: 1, sequence: 1, expiresAt: 1)
        response.lastSequence = 2
        #expect(try MailboxResponse(parsing: response.encode()) == response)
        let error = MailboxResponse(error: MailboxError(.quotaBytes, "full"))
        #expect(try MailboxResponse(parsing: error.encode()).error?.code == .quotaBytes)
        #expect(MailboxResponse(error: MailboxError(MailboxError.Code(424242, "future"), "x")).error?.code == .unknownStatus)
    }

    @Test func errorCodesAreDistinctOnTheWire() {
        let codes: [MailboxError.Code] = [
            .malformed, .messageTooLarge, .tooLarge, .unsupportedVersion, .unknownQueue, .unauthorized, .replayed, .expiredRequest,
            .quotaCount, .quotaBytes, .rateLimited, .invalidRequest, .tooManyQueues, .invalidPushEndpoint, .internalError,
        ]
        #expect(Set(codes.map(\.wireValue)).count == codes.count)
        for code in codes { #expect(MailboxError.Code.fromWire(code.wireValue) == code) }
    }

    @Test func queueAddressAndCredentialsRoundTripWithoutPrintingKeys() throws {
        let mailbox = try Multiaddr("/ip4/1.2.3.4/tcp/4001").appending(.p2p(IdentityKeyPair.generate().peerID.multihash))
        let credentials = try QueueCredentials(mailbox: mailbox, queueID: .random(), recipientKey: QueueRecipientKey(), senderKey: QueueSenderKey())
        let parsed = try QueueCredentials(parsing: credentials.encode())
        #expect(parsed.encode() == credentials.encode())
        let address = try QueueAddress(parsing: credentials.address.encode())
        #expect(address.queueID == credentials.queueID && address.mailbox == mailbox)
        #expect(address.senderKey.publicKeyBytes == credentials.senderKey.publicKeyBytes)
        #expect(!credentials.address.encode().contains(subsequence: credentials.recipientKey.rawRepresentation))
        #expect(!"\(credentials) \(address) \(credentials.recipientKey)".contains(credentials.queueID.bytes.map { String($0) }.joined()))
        // A mailbox address without /p2p/ and truncated bytes are refused.
        #expect(throws: MailboxError.self) { try QueueAddress(mailbox: try Multiaddr("/ip4/1.2.3.4/tcp/1"), queueID: .random(), senderKey: QueueSenderKey()) }
        #expect(throws: MailboxError.self) { try QueueAddress(parsing: Array(address.encode().dropLast(3))) }
    }

    @Test func replayCacheRemembersWithinTheWindowAndRaisesItsFloorWhenFull() {
        var cache = ReplayCache(windowSeconds: 10, maxEntries: 3, startedAt: 100_000)
        #expect(cache.admit(nonce: [1], timestamp: 99_999, now: 100_000) == .expired)  // before start
        #expect(cache.admit(nonce: [1], timestamp: 100_000, now: 100_000) == .accepted)
        #expect(cache.admit(nonce: [1], timestamp: 100_000, now: 100_500) == .replayed)
        #expect(cache.admit(nonce: [2], timestamp: 101_000, now: 101_000) == .accepted)
        #expect(cache.admit(nonce: [3], timestamp: 102_000, now: 102_000) == .accepted)
        #expect(cache.admit(nonce: [4], timestamp: 103_000, now: 103_000) == .accepted)  // evicts second 100
        #expect(cache.count == 3)
        #expect(cache.admit(nonce: [1], timestamp: 100_000, now: 103_000) == .expired)  // below the floor now
        #expect(cache.admit(nonce: [9], timestamp: 90_000, now: 120_000) == .expired)
        // After the window, old buckets are pruned.
        #expect(cache.admit(nonce: [5], timestamp: 200_000, now: 200_000) == .accepted)
        #expect(cache.count == 1)
    }

    @Test func tokenBucketRefillsWithTheClock() {
        var bucket = TokenBucket(capacity: 2, ratePerSecond: 1, now: 0)
        let first = bucket.take(now: 0)
        let second = bucket.take(now: 0)
        let third = bucket.take(now: 500)
        let refilled = bucket.take(now: 1000)
        let empty = bucket.take(now: 1000)
        let full = bucket.isFull(now: 10_000)
        #expect(first && second && !third && refilled && !empty && full)
    }
}
