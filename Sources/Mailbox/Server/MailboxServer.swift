import Crypto
import Foundation
import LibP2P
import Logging
import Multiformats
import NIOCore
import Synchronization

/// A mailbox: serves `/p2pchat/mailbox/1.0.0` on a libp2p host, storing opaque envelopes in
/// unidirectional queues in its own SQLite database (ARCHITECTURE.md §Mailboxes;
/// research/crypto.md §6, §8.7).
///
/// It knows queues only by random ids and two public keys; it never stores who connects.
/// Use: `MailboxServer(home:)`, `register(on: host)`, then run `host.run()` and `server.run()`
/// (expiry sweeps and push deliveries) side by side, e.g. in one task group, as
/// `p2pchat mailbox serve` does.
public final class MailboxServer: Sendable {
    /// What the server remembers of a queue to authenticate requests quickly.
    struct QueueAuth: Sendable {
        var recipient: Curve25519.Signing.PublicKey
        var sender: Curve25519.Signing.PublicKey
        var pushEndpoint: PushEndpoint?
    }

    /// The most queues whose keys are cached in memory.
    static let maxCachedQueues = 200_000
    /// Room kept in a fetch answer for everything but the blocks.
    static let fetchResponseOverhead = 64 * 1024

    /// The configuration in force.
    public let configuration: MailboxConfiguration
    /// The database.
    public let store: MailboxStore
    let clock: MailboxClock
    let logger: Logger
    private let replayCache: Mutex<ReplayCache>
    private let rateLimiter: ConnectionRateLimiter
    private let subscriptions = SubscriptionHub()
    private let push = PushDispatcher()
    private let pushClient = HTTPWakeUpClient()
    private let queueCache = Mutex<[QueueID: QueueAuth]>([:])
    /// Our peer id's bytes, bound into every request signature; set by `register(on:)`.
    private let mailboxPeerID = Mutex<[UInt8]?>(nil)

    /// Opens (or creates) the mailbox database in `home` (`home/mailbox.sqlite`).
    public init(
        home: URL, configuration: MailboxConfiguration = MailboxConfiguration(), clock: MailboxClock = .system,
        logger: Logger = Logger(label: "p2pchat.mailbox")
    ) throws {
        var configuration = configuration
        configuration.maxEnvelopeLength = min(configuration.maxEnvelopeLength, MailboxProtocol.maxEnvelopeLength)
        configuration.defaultTTLSeconds = min(configuration.defaultTTLSeconds, configuration.maxTTLSeconds)
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.store = try MailboxStore(directory: home, commitWindow: configuration.depositCommitWindow)
        self.replayCache = Mutex(ReplayCache(
            windowSeconds: configuration.requestWindowSeconds, maxEntries: configuration.maxReplayCacheEntries,
            startedAt: clock.now()))
        self.rateLimiter = ConnectionRateLimiter(configuration: configuration)
    }

    /// Serves the mailbox protocol on `host`. The host's peer id becomes part of every
    /// request signature, so call this once, for one host.
    public func register(on host: LibP2P.Host) {
        mailboxPeerID.withLock { $0 = host.peerID.multihash.bytes }
        host.setHandler(for: MailboxProtocol.protocolID) { [self] incoming in
            await handle(stream: incoming.stream, connectionID: incoming.connection.id)
        }
    }

    /// Runs the background work: an expiry sweep every `sweepInterval` and push deliveries.
    /// Returns when cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    do {
                        _ = try await self.sweepExpired()
                    } catch {
                        self.logger.error("expiry sweep failed", metadata: ["reason": "\(error)"])
                    }
                    try? await Task.sleep(for: self.configuration.sweepInterval)
                }
            }
            group.addTask {
                await self.push.run { job in await self.deliverWakeUp(job) }
            }
            // Wait for cancellation, then stop the push loop too.
            await withTaskCancellationHandler {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            } onCancel: {
                self.push.finish()
            }
        }
    }

    /// Deletes expired envelopes now; returns how many. `run()` calls it periodically.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        let now = clock.now()
        rateLimiter.prune(now: now)
        let removed = try await store.deleteExpired(now: now)
        if removed > 0 { logger.debug("expired envelopes removed", metadata: ["count": "\(removed)"]) }
        return removed
    }

    /// Closes the database. Call after the host and `run()` have stopped.
    public func close() throws {
        push.finish()
        try store.close()
    }

    // MARK: Streams

    /// Serves one stream: requests in sequence until EOF; a subscribe answer turns the stream
    /// into a notification feed. Bad input gets an error answer and the stream is closed.
    func handle(stream: BufferedByteStream, connectionID: UInt64) async {
        while true {
            let frame: ByteBuffer
            do {
                // Only depositBlocks may exceed maxRequestLength; `process` checks the kind.
                frame = try await stream.readLengthPrefixed(maximumLength: MailboxProtocol.maxBlocksRequestLength)
            } catch let error as LibP2PError where error.code == .frameTooLarge {
                await refuse(MailboxError(.messageTooLarge, "request exceeds \(MailboxProtocol.maxBlocksRequestLength) bytes"), on: stream)
                return
            } catch let error as LibP2PError where error.code == .malformedInput {
                await refuse(MailboxError(.malformed, "bad length prefix"), on: stream)
                return
            } catch {
                return  // EOF or reset: the client is done.
            }
            let bytes = Array(frame.readableBytesView)
            let response: MailboxResponse
            var subscription: AsyncStream<MailboxResponse.Entry>?
            do {
                (response, subscription) = try await process(bytes, connectionID: connectionID)
            } catch {
                let mailboxError = (error as? MailboxError) ?? MailboxError(.internalError, "internal error", underlying: error)
                if [.malformed, .messageTooLarge, .unsupportedVersion].contains(mailboxError.code) {
                    await refuse(mailboxError, on: stream)
                    return
                }
                logger.debug("request refused", metadata: ["code": "\(mailboxError.code)"])
                guard (try? await stream.writeLengthPrefixed(MailboxResponse(error: mailboxError).encode())) != nil else { return }
                continue
            }
            do {
                try await stream.writeLengthPrefixed(response.encode())
            } catch {
                return
            }
            if let subscription {
                await serveSubscription(subscription, on: stream)
                return
            }
        }
    }

    /// Sends an error answer and closes the stream.
    private func refuse(_ error: MailboxError, on stream: BufferedByteStream) async {
        logger.info("closing mailbox stream on bad input", metadata: ["code": "\(error.code)", "reason": "\(error.message)"])
        try? await stream.writeLengthPrefixed(MailboxResponse(error: error).encode())
        try? await stream.closeWrite()
        await stream.close()
    }

    /// Pushes notifications until the client closes the stream or the queue is deleted.
    private func serveSubscription(_ notifications: AsyncStream<MailboxResponse.Entry>, on stream: BufferedByteStream) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The client sends nothing more; EOF or reset ends the subscription.
                while (try? await stream.read()) != nil {}
            }
            group.addTask {
                for await entry in notifications {
                    var response = MailboxResponse()
                    response.notification = entry
                    guard (try? await stream.writeLengthPrefixed(response.encode())) != nil else { return }
                }
            }
            await group.next()
            group.cancelAll()
        }
        try? await stream.closeWrite()
    }

    // MARK: Requests

    /// Authenticates and executes one request.
    func process(_ bytes: [UInt8], connectionID: UInt64) async throws -> (MailboxResponse, AsyncStream<MailboxResponse.Entry>?) {
        let now = clock.now()
        guard rateLimiter.admitRequest(on: connectionID, now: now) else {
            throw MailboxError(.rateLimited, "too many requests on this connection")
        }
        let tooLarge = MailboxError(.messageTooLarge, "request exceeds \(MailboxProtocol.maxRequestLength) bytes")
        let isOversized = bytes.count > MailboxProtocol.maxRequestLength
        let request: MailboxRequest
        do {
            request = try MailboxRequest(parsing: bytes)
        } catch {
            throw isOversized ? tooLarge : error
        }
        guard MailboxProtocol.supportedVersions.contains(request.version) else {
            throw MailboxError(
                .unsupportedVersion,
                "version \(request.version) is not supported (this mailbox speaks \(MailboxProtocol.supportedVersions.lowerBound)…\(MailboxProtocol.supportedVersions.upperBound))")
        }
        let body: MailboxRequest.Body
        do {
            body = try MailboxRequest.Body(parsing: request.bodyBytes)
        } catch {
            throw isOversized ? tooLarge : error
        }
        let kind = body.operation.kind
        guard !isOversized || kind == .depositBlocks else { throw tooLarge }
        guard request.version >= kind.minimumVersion else {
            throw MailboxError(.unsupportedVersion, "\(kind) needs protocol version \(kind.minimumVersion)")
        }
        guard replayCache.withLock({ $0.isFresh(body.timestamp, now: now) }) else {
            throw MailboxError(.expiredRequest, "request timestamp is outside the accepted window; check the clock and retry")
        }
        if case .deposit(let envelope, _) = body.operation {
            guard rateLimiter.admitDeposit(on: connectionID, now: now) else {
                throw MailboxError(.rateLimited, "too many deposits on this connection")
            }
            guard envelope.count <= configuration.maxEnvelopeLength else {
                throw MailboxError(.tooLarge, "envelope of \(envelope.count) bytes exceeds \(configuration.maxEnvelopeLength)")
            }
        }
        if case .depositBlocks = body.operation {
            guard rateLimiter.admitDeposit(on: connectionID, now: now) else {
                throw MailboxError(.rateLimited, "too many deposits on this connection")
            }
        }
        // Who must have signed.
        let signer: Curve25519.Signing.PublicKey
        var auth: QueueAuth?
        if case .createQueue(let recipientKey, _) = body.operation {
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: recipientKey) else {
                throw MailboxError(.malformed, "invalid recipient key")
            }
            signer = key
        } else {
            // Body parsing guarantees a queue id for every other kind.
            let queueAuth = try await self.auth(for: body.queueID!)
            auth = queueAuth
            switch body.operation {
            case .deposit, .depositBlocks: signer = queueAuth.sender
            default: signer = queueAuth.recipient
            }
        }
        guard let peerID = mailboxPeerID.withLock({ $0 }) else {
            throw MailboxError(.internalError, "mailbox is not registered on a host")
        }
        let signed = MailboxRequest.signingInput(body: request.bodyBytes, mailboxPeerID: peerID)
        guard signer.isValidSignature(request.signature, for: signed) else {
            throw MailboxError(.unauthorized, "signature does not verify with this queue's key")
        }
        switch replayCache.withLock({ $0.admit(nonce: body.nonce, timestamp: body.timestamp, now: now) }) {
        case .accepted: break
        case .replayed: throw MailboxError(.replayed, "this request was already received")
        case .expired: throw MailboxError(.expiredRequest, "request timestamp is outside the accepted window")
        }
        return try await execute(body, auth: auth, now: now)
    }

    /// The keys of a queue, from the cache or the database.
    private func auth(for queue: QueueID) async throws -> QueueAuth {
        if let cached = queueCache.withLock({ $0[queue] }) { return cached }
        guard let record = try await store.queue(queue) else {
            throw MailboxError(.unknownQueue, "no such queue")
        }
        guard let recipient = try? Curve25519.Signing.PublicKey(rawRepresentation: record.recipientKey),
              let sender = try? Curve25519.Signing.PublicKey(rawRepresentation: record.senderKey) else {
            throw MailboxError(.internalError, "stored queue keys are invalid")
        }
        let endpoint = record.pushEndpoint.flatMap { try? PushEndpoint(parsing: $0, allowsPrivate: configuration.allowsPrivatePushEndpoints) }
        let auth = QueueAuth(recipient: recipient, sender: sender, pushEndpoint: endpoint)
        queueCache.withLock { cache in
            if cache.count >= Self.maxCachedQueues { cache.removeAll(keepingCapacity: true) }
            cache[queue] = auth
        }
        return auth
    }

    private func execute(
        _ body: MailboxRequest.Body, auth: QueueAuth?, now: UInt64
    ) async throws -> (MailboxResponse, AsyncStream<MailboxResponse.Entry>?) {
        var response = MailboxResponse()
        switch body.operation {
        case .createQueue(let recipientKey, let senderKey):
            let id = QueueID.random()
            try await store.createQueue(
                .init(id: id, recipientKey: recipientKey, senderKey: senderKey, pushEndpoint: nil), maxQueues: configuration.maxQueues)
            response.queueID = id
            logger.debug("queue created")
        case .deposit(let envelope, let ttlSeconds):
            let queue = body.queueID!
            let ttl = ttlSeconds == 0 ? configuration.defaultTTLSeconds : min(ttlSeconds, configuration.maxTTLSeconds)
            let cid = CID.v1(codec: .raw, multihash: .sha256(envelope))
            let outcome = try await store.deposit(.init(
                queueID: queue, cid: cid, data: envelope, expiresAt: now + ttl * 1000,
                maxCount: configuration.maxEnvelopesPerQueue, maxBytes: configuration.maxBytesPerQueue))
            switch outcome {
            case .stored(let position):
                subscriptions.publish(
                    .init(cid: cid, size: UInt64(envelope.count), sequence: position, expiresAt: now + ttl * 1000), to: queue)
                if let endpoint = auth?.pushEndpoint { push.enqueue(queue, endpoint: endpoint) }
            case .duplicate:
                response.duplicate = true
            case .refused(let error):
                if error.code == .unknownQueue { forget(queue) }
                throw error
            }
            response.cid = cid
        case .list(let after, let limit):
            let limit = limit == 0 ? MailboxProtocol.maxListLimit : min(Int(limit), MailboxProtocol.maxListLimit)
            response.entries = try await store.list(body.queueID!, after: after, limit: limit, now: now)
            response.lastSequence = response.entries.last?.sequence ?? after
        case .fetch(let cids):
            let result = try await store.fetch(
                body.queueID!, cids: cids, now: now, byteBudget: MailboxProtocol.maxResponseLength - Self.fetchResponseOverhead)
            response.blocks = result.blocks.map { .init(cid: $0.cid, data: $0.data) }
            response.missing = result.missing
            response.corrupt = result.corrupt
            if !result.corrupt.isEmpty {
                logger.error("corrupt envelopes dropped", metadata: ["count": "\(result.corrupt.count)"])
            }
        case .acknowledge(let cids):
            response.count = UInt64(try await store.acknowledge(body.queueID!, cids: cids))
        case .depositBlocks(let blocks, let ttlSeconds):
            for block in blocks {
                guard block.cid.multihash.code == .sha2_256, block.cid.multihash.matches(block.data) else {
                    throw MailboxError(.blockMismatch, "block \(block.cid) does not match its CID (sha2-256 required)")
                }
            }
            let ttl = ttlSeconds == 0 ? configuration.defaultTTLSeconds : min(ttlSeconds, configuration.maxTTLSeconds)
            let stored = try await store.depositBlocks(
                body.queueID!, blocks: blocks.map { ($0.cid, $0.data) }, expiresAt: now + ttl * 1000,
                maxBytes: configuration.maxBytesPerQueue)
            response.count = UInt64(stored)
        case .fetchBlocks(let cids):
            let result = try await store.fetchBlocks(
                body.queueID!, cids: cids, now: now, byteBudget: MailboxProtocol.maxResponseLength - Self.fetchResponseOverhead)
            response.blocks = result.blocks.map { .init(cid: $0.cid, data: $0.data) }
            response.missing = result.missing
            response.corrupt = result.corrupt
            if !result.corrupt.isEmpty {
                logger.error("corrupt blocks dropped", metadata: ["count": "\(result.corrupt.count)"])
            }
        case .acknowledgeBlocks(let cids):
            response.count = UInt64(try await store.acknowledgeBlocks(body.queueID!, cids: cids))
        case .subscribe:
            guard let stream = subscriptions.subscribe(to: body.queueID!, limit: configuration.maxSubscribersPerQueue) else {
                throw MailboxError(.rateLimited, "this queue has its maximum of \(configuration.maxSubscribersPerQueue) subscriptions")
            }
            return (response, stream)
        case .deleteQueue:
            let queue = body.queueID!
            _ = try await store.deleteQueue(queue)
            forget(queue)
            subscriptions.finish(queue)
        case .status:
            guard let status = try await store.status(of: body.queueID!) else {
                throw MailboxError(.unknownQueue, "no such queue")
            }
            response.count = status.count
            response.byteCount = status.bytes
            response.maxCount = configuration.maxEnvelopesPerQueue
            response.maxBytes = configuration.maxBytesPerQueue
            response.hasPush = status.hasPush
        case .setPushEndpoint(let url):
            let queue = body.queueID!
            if let url {
                _ = try PushEndpoint(parsing: url, allowsPrivate: configuration.allowsPrivatePushEndpoints)
            }
            guard try await store.setPushEndpoint(url, for: queue) else {
                throw MailboxError(.unknownQueue, "no such queue")
            }
            forget(queue)
        }
        return (response, nil)
    }

    private func forget(_ queue: QueueID) {
        _ = queueCache.withLock { $0.removeValue(forKey: queue) }
    }

    // MARK: Push

    /// Delivers one wake-up with bounded retries and exponential backoff.
    private func deliverWakeUp(_ job: PushDispatcher.Job) async {
        var delay = configuration.pushRetryBaseDelay
        for attempt in 1...max(1, configuration.pushMaxAttempts) {
            switch await pushClient.post(to: job.endpoint, timeout: configuration.pushTimeout) {
            case .delivered:
                return
            case .gone:
                logger.info("push endpoint gone; removing it")
                _ = try? await store.setPushEndpoint(nil, for: job.queue)
                forget(job.queue)
                return
            case .rejected(let status):
                logger.info("push endpoint rejected the wake-up", metadata: ["status": "\(status)"])
                return
            case .retry(let reason):
                logger.debug("push attempt failed", metadata: ["attempt": "\(attempt)", "reason": "\(reason)"])
                guard attempt < configuration.pushMaxAttempts else { break }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
                delay *= 2
            }
        }
        logger.info("push wake-up abandoned after \(configuration.pushMaxAttempts) attempts")
    }
}
