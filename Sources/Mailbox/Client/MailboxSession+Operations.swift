import LibP2P
import Multiformats

/// A queue's counters and quotas as the mailbox reports them.
public struct QueueStatus: Sendable, Equatable {
    /// Envelopes stored.
    public var envelopeCount: UInt64
    /// Bytes stored.
    public var byteCount: UInt64
    /// The mailbox's per-queue envelope quota.
    public var maxEnvelopes: UInt64
    /// The mailbox's per-queue byte quota.
    public var maxBytes: UInt64
    /// Whether a push endpoint is registered.
    public var hasPushEndpoint: Bool
}

/// The answer to a deposit.
public struct DepositReceipt: Sendable, Equatable {
    /// The envelope's CID (v1, raw, sha2-256), the same at every mailbox.
    public var cid: CID
    /// The queue already held this envelope; it was not stored twice.
    public var wasDuplicate: Bool
}

/// Envelopes fetched from a queue.
public struct FetchedEnvelopes: Sendable {
    /// CID and bytes, in deposit order; every one checked against its CID.
    public var envelopes: [MailboxResponse.Block] = []
    /// CIDs the queue does not hold (acknowledged, expired, never deposited).
    public var missing: [CID] = []
    /// CIDs whose bytes failed the hash check (the mailbox dropped them, or they arrived
    /// damaged); ask the sender again.
    public var corrupt: [CID] = []
}

extension MailboxSession {
    /// Creates a queue with fresh keys; `mailbox` is the address to put in the credentials
    /// (the one this session is connected to, with `/p2p/`).
    public func createQueue(mailbox: Multiaddr) async throws -> QueueCredentials {
        let recipientKey = QueueRecipientKey()
        let senderKey = QueueSenderKey()
        let response = try await send(
            .createQueue(recipientKey: recipientKey.publicKeyBytes, senderKey: senderKey.publicKeyBytes), queue: nil,
            sign: recipientKey.sign)
        guard let queueID = response.queueID else {
            throw MailboxError(.badResponse, "createQueue answer without a queue id")
        }
        return try QueueCredentials(mailbox: mailbox, queueID: queueID, recipientKey: recipientKey, senderKey: senderKey)
    }

    /// Deposits `envelope`; `ttlSeconds` `nil` means the mailbox default (capped by its maximum).
    public func deposit(_ envelope: [UInt8], to address: QueueAddress, ttlSeconds: UInt64? = nil) async throws -> DepositReceipt {
        let response = try await send(
            .deposit(envelope: envelope, ttlSeconds: ttlSeconds ?? 0), queue: address.queueID, sign: address.senderKey.sign)
        let expected = CID.v1(codec: .raw, multihash: .sha256(envelope))
        guard response.cid == expected else {
            throw MailboxError(.badResponse, "mailbox answered with a CID that is not the envelope's")
        }
        return DepositReceipt(cid: expected, wasDuplicate: response.duplicate)
    }

    /// Up to `limit` entries after position `after`, in deposit (FIFO) order.
    public func list(_ credentials: QueueCredentials, after: UInt64 = 0, limit: Int = MailboxProtocol.maxListLimit) async throws -> [MailboxResponse.Entry] {
        let limit = UInt32(clamping: max(1, min(limit, MailboxProtocol.maxListLimit)))
        return try await send(.list(afterSequence: after, limit: limit), queue: credentials.queueID, sign: credentials.recipientKey.sign).entries
    }

    /// The bytes of `cids` (any number; sent in batches), each checked against its CID.
    public func fetch(_ cids: [CID], from credentials: QueueCredentials) async throws -> FetchedEnvelopes {
        try await fetchVerified(cids, from: credentials, what: "fetch") { .fetch($0) }
    }

    /// Deletes `cids` from the queue; returns how many were there.
    @discardableResult
    public func acknowledge(_ cids: [CID], in credentials: QueueCredentials) async throws -> Int {
        try await acknowledgeBatched(cids, in: credentials) { .acknowledge($0) }
    }

    /// The queue's counters and quotas.
    public func status(of credentials: QueueCredentials) async throws -> QueueStatus {
        let response = try await send(.status, queue: credentials.queueID, sign: credentials.recipientKey.sign)
        return QueueStatus(
            envelopeCount: response.count, byteCount: response.byteCount, maxEnvelopes: response.maxCount,
            maxBytes: response.maxBytes, hasPushEndpoint: response.hasPush)
    }

    /// Deletes the queue and everything in it.
    public func deleteQueue(_ credentials: QueueCredentials) async throws {
        _ = try await send(.deleteQueue, queue: credentials.queueID, sign: credentials.recipientKey.sign)
    }

    /// Registers a push endpoint (`http://…`), or removes it with `nil`.
    public func setPushEndpoint(_ url: String?, for credentials: QueueCredentials) async throws {
        _ = try await send(.setPushEndpoint(url), queue: credentials.queueID, sign: credentials.recipientKey.sign)
    }

    /// Lists, fetches and (optionally) acknowledges everything in the queue, in FIFO order.
    public func drain(_ credentials: QueueCredentials, acknowledge: Bool = true) async throws -> FetchedEnvelopes {
        var result = FetchedEnvelopes()
        var after: UInt64 = 0
        while true {
            let entries = try await list(credentials, after: after)
            guard let last = entries.last else { break }
            after = last.sequence
            let fetched = try await fetch(entries.map(\.cid), from: credentials)
            if acknowledge { try await self.acknowledge(fetched.envelopes.map(\.cid), in: credentials) }
            result.envelopes += fetched.envelopes
            result.missing += fetched.missing
            result.corrupt += fetched.corrupt
        }
        return result
    }

    // MARK: Blocks (protocol version 2)

    /// Deposits attachment blocks for the queue's recipient in one request (at most
    /// `MailboxProtocol.maxBlocksPerRequest` blocks and `maxBlockBatchLength` bytes; the mailbox
    /// checks every block against its sha2-256 CID and stores all or none); returns how many
    /// were new. Blocks the queue already holds are not stored twice.
    @discardableResult
    public func depositBlocks(_ blocks: [MailboxResponse.Block], to address: QueueAddress, ttlSeconds: UInt64? = nil) async throws -> Int {
        guard !blocks.isEmpty else { return 0 }
        let response = try await send(
            .depositBlocks(blocks, ttlSeconds: ttlSeconds ?? 0), queue: address.queueID, sign: address.senderKey.sign)
        return Int(clamping: response.count)
    }

    /// The blocks `cids` (any number; sent in batches), each checked against its CID.
    public func fetchBlocks(_ cids: [CID], from credentials: QueueCredentials) async throws -> FetchedEnvelopes {
        try await fetchVerified(cids, from: credentials, what: "block fetch") { .fetchBlocks($0) }
    }

    /// Deletes blocks `cids` from the queue; returns how many were there.
    @discardableResult
    public func acknowledgeBlocks(_ cids: [CID], in credentials: QueueCredentials) async throws -> Int {
        try await acknowledgeBatched(cids, in: credentials) { .acknowledgeBlocks($0) }
    }

    /// Fetches `cids` in batches with `operation`, checking every returned block against its
    /// CID; blocks past one answer's size budget are asked for again.
    private func fetchVerified(
        _ cids: [CID], from credentials: QueueCredentials, what: String, operation: ([CID]) -> MailboxRequest.Operation
    ) async throws -> FetchedEnvelopes {
        var result = FetchedEnvelopes()
        var remaining = cids[...]
        while !remaining.isEmpty {
            let batch = Array(remaining.prefix(MailboxProtocol.maxCIDsPerRequest))
            let response = try await send(operation(batch), queue: credentials.queueID, sign: credentials.recipientKey.sign)
            var answered = Set(response.missing).union(response.corrupt)
            for block in response.blocks where batch.contains(block.cid) && !answered.contains(block.cid) {
                answered.insert(block.cid)
                if block.cid.multihash.matches(block.data) {
                    result.envelopes.append(block)
                } else {
                    result.corrupt.append(block.cid)
                }
            }
            result.missing += response.missing
            result.corrupt += response.corrupt
            guard !answered.isEmpty else {
                throw MailboxError(.badResponse, "mailbox answered a \(what) with nothing")
            }
            remaining = remaining.filter { !answered.contains($0) }[...]
        }
        return result
    }

    /// Sends `operation` for `cids` in batches; returns how many the mailbox deleted.
    private func acknowledgeBatched(
        _ cids: [CID], in credentials: QueueCredentials, operation: ([CID]) -> MailboxRequest.Operation
    ) async throws -> Int {
        var deleted = 0
        var remaining = cids[...]
        while !remaining.isEmpty {
            let batch = Array(remaining.prefix(MailboxProtocol.maxCIDsPerRequest))
            remaining = remaining.dropFirst(batch.count)
            deleted += Int(clamping: try await send(operation(batch), queue: credentials.queueID, sign: credentials.recipientKey.sign).count)
        }
        return deleted
    }

    /// Turns this session's stream into a live feed of deposits to the queue; the session
    /// cannot carry other requests afterwards.
    public func subscribe(to credentials: QueueCredentials) async throws -> MailboxSubscription {
        _ = try await send(.subscribe, queue: credentials.queueID, sign: credentials.recipientKey.sign)
        return MailboxSubscription(session: self)
    }
}
