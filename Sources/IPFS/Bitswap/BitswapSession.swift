import LibP2P
import Logging
import Multiformats
import NIOCore

/// Fetches one DAG over Bitswap from one or several peers into the block store.
///
/// Thin async glue around ``BitswapSessionState``: it opens one Bitswap stream per peer for
/// its wants (reading it too, for peers that answer inline), receives blocks routed by
/// ``Bitswap`` from inbound streams, verifies every block by rebuilding its CID from the bytes
/// (ipfs/specs `bitswap-protocol.md`, "Block"), stores accepted blocks, follows their DAG-PB /
/// DAG-CBOR links, and re-asks other peers on DONT_HAVE or timeout. Blocks already in the store
/// are not fetched again. Nothing enters the store unless it hashes to a CID we asked for.
public final class BitswapSession: Sendable {
    /// How far a fetch has come.
    public struct Progress: Hashable, Sendable {
        /// Blocks received from peers.
        public var blocks: Int
        /// Block bytes received from peers.
        public var bytes: UInt64
        /// Wants currently in flight.
        public var inFlight: Int
    }

    /// The outcome of a completed fetch.
    public struct Report: Hashable, Sendable {
        /// The DAG root.
        public var root: CID
        /// Blocks fetched from peers.
        public var blocksFetched: Int
        /// Bytes fetched from peers.
        public var bytesFetched: UInt64
        /// Blocks that were already in the store.
        public var blocksAlreadyPresent: Int
        /// Peers dropped for misbehaviour (wrong or unrequested blocks) or dead streams.
        public var droppedPeers: Set<PeerID>
    }

    /// How often timeouts are checked.
    public static let tickInterval: Duration = .milliseconds(500)

    private enum Event: Sendable {
        case message(BitswapMessage, ReceivedBlocks, PeerID)
        case streamEnded(PeerID)
        case tick
        /// A batch of `bytes` handed to the store writer is committed.
        case committed(bytes: Int)
        case storeFailed(IPFSError)
    }

    /// Accepted blocks on their way to the store.
    private typealias Batch = [(cid: CID, bytes: [UInt8])]

    let bitswap: Bitswap
    let peers: [PeerID]
    let options: BitswapSessionState.Options

    /// A session fetching from `peers` (which should be connected, or dialable from the peer store).
    public init(bitswap: Bitswap, peers: [PeerID], options: BitswapSessionState.Options = .init()) {
        self.bitswap = bitswap
        self.peers = peers
        self.options = options
    }

    /// Fetches every block of the DAG under `root` that the store lacks.
    ///
    /// `stored` is called with each batch of received blocks once they are committed to the
    /// store (their hashes verified), so a reader following the fetch can use them without
    /// reading and hashing them again. Batches commit in the order they arrived, on a writer
    /// task beside the fetch (at most ``BitswapSessionState/Options/maxUncommittedBytes``
    /// waiting); the fetch returns once the last one is committed.
    ///
    /// - Throws: ``IPFSError`` `.blockNotFound` (every peer said DONT_HAVE), `.timeout`,
    ///   `.peerUnavailable` (every peer dropped or unreachable).
    public func fetch(
        root: CID, progress: (@Sendable (Progress) -> Void)? = nil,
        stored: (@Sendable ([(cid: CID, bytes: [UInt8])]) -> Void)? = nil
    ) async throws -> Report {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let sessionID = bitswap.registerSession(peers: Set(peers)) { message, blocks, peer in
            continuation.yield(.message(message, blocks, peer))
        }
        defer {
            bitswap.unregisterSession(sessionID)
            continuation.finish()
        }
        var run = Run(session: self, id: sessionID, state: BitswapSessionState(peers: peers, options: options))
        try run.walkLocal(from: root)
        if run.state.isComplete {
            return run.report(root: root)
        }
        let streams = StreamTable()
        let (batches, batchContinuation) = AsyncStream.makeStream(of: Batch.self)
        run.batches = batchContinuation
        defer { batchContinuation.finish() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: Self.tickInterval)
                        continuation.yield(.tick)
                    }
                }
                let blockstore = bitswap.blockstore
                group.addTask {
                    // The store writer: commits run beside the fetch, in arrival order.
                    // Not synced per batch: blocks lost to a power cut are fetched again.
                    for await batch in batches {
                        do {
                            try await blockstore.putFetched(batch) { stored?(batch) }
                        } catch {
                            let failure = error as? IPFSError ?? IPFSError(.storageFailed, "block store put failed", underlying: error)
                            continuation.yield(.storeFailed(failure))
                            return
                        }
                        continuation.yield(.committed(bytes: batch.reduce(0) { $0 + $1.bytes.count }))
                    }
                }
                defer { group.cancelAll() }
                try await run.send(run.state.schedule(now: .now), streams: streams, group: &group, events: continuation)
                for await event in events {
                    switch event {
                    case .message(let message, let blocks, let peer):
                        try run.process(message, blocks: blocks, from: peer)
                    case .committed(let bytes):
                        run.state.committed(bytes: bytes)
                    case .storeFailed(let failure):
                        throw failure
                    case .streamEnded(let peer):
                        await streams.forget(peer)
                    case .tick:
                        try await run.sendCancels(run.state.expire(now: .now), streams: streams)
                    }
                    if let failure = run.state.failure { throw failure }
                    if run.state.isComplete { break }
                    try await run.send(run.state.schedule(now: .now), streams: streams, group: &group, events: continuation)
                    if let failure = run.state.failure { throw failure }
                    progress?(Progress(blocks: run.state.blocksReceived, bytes: run.state.bytesReceived, inFlight: run.state.inFlightCount))
                }
                try? await run.sendCancels(run.state.outstanding, streams: streams)
                await streams.closeAll()
            }
        } catch {
            try? await run.sendCancels(run.state.outstanding, streams: streams)
            await streams.closeAll()
            throw error
        }
        guard run.state.isComplete else {
            throw run.state.failure ?? IPFSError(.timeout, "fetch of \(root) ended before it completed")
        }
        return run.report(root: root)
    }

    /// Our per-peer want streams.
    actor StreamTable {
        private var streams: [PeerID: MultistreamSelect.Negotiated] = [:]

        func stream(for peer: PeerID) -> MultistreamSelect.Negotiated? { streams[peer] }
        func set(_ stream: MultistreamSelect.Negotiated, for peer: PeerID) { streams[peer] = stream }
        func forget(_ peer: PeerID) async {
            // Closing ends the stream's reader task too.
            if let negotiated = streams.removeValue(forKey: peer) { await negotiated.stream.close() }
        }

        func closeAll() async {
            let all = Array(streams.values)
            streams.removeAll()
            for negotiated in all {
                try? await negotiated.stream.closeWrite()
                await negotiated.stream.close()
            }
        }
    }

    /// The mutable part of one fetch, owned by the fetching task.
    private struct Run {
        let session: BitswapSession
        let id: UInt64
        var state: BitswapSessionState
        var alreadyPresent = 0
        var nextPriority: Int32 = Int32.max
        /// Where accepted blocks go to be stored (the writer task of ``fetch``).
        var batches: AsyncStream<Batch>.Continuation?

        var blockstore: Blockstore { session.bitswap.blockstore }

        func report(root: CID) -> Report {
            Report(root: root, blocksFetched: state.blocksReceived, bytesFetched: state.bytesReceived,
                   blocksAlreadyPresent: alreadyPresent, droppedPeers: state.droppedPeers)
        }

        /// Marks everything reachable from `cid` in the store as present and wants the rest.
        mutating func walkLocal(from cid: CID) throws {
            try walkLocal(from: [cid])
        }

        /// ``walkLocal(from:)`` for the links of a received block, in order: which of them the
        /// store holds is asked in one query (a root's ~1,000 leaves need not be 1,000 reads
        /// before the first want goes out).
        mutating func walkLocal(from cids: [CID]) throws {
            guard cids.count > 1 else {
                if let cid = cids.first { try walkLocalDepthFirst(from: cid) }
                return
            }
            let present = try blockstore.presentKeys(of: cids.map(\.multihash))
            var wanted: [Multihash] = []
            for cid in cids {
                if present.contains(cid.multihash) {
                    if !wanted.isEmpty {
                        session.bitswap.noteWanted(wanted, session: id)
                        wanted.removeAll()
                    }
                    try walkLocalDepthFirst(from: cid)
                } else {
                    state.want(cid)
                    wanted.append(cid.multihash)
                }
            }
            session.bitswap.noteWanted(wanted, session: id)
        }

        private mutating func walkLocalDepthFirst(from cid: CID) throws {
            var stack = [cid]
            var wanted: [Multihash] = []
            while let next = stack.popLast() {
                let bytes: [UInt8]?
                do {
                    bytes = try blockstore.get(next)
                } catch let error as IPFSError where error.code == .corruptBlock {
                    bytes = nil
                }
                guard let bytes else {
                    state.want(next)
                    wanted.append(next.multihash)
                    continue
                }
                guard !state.everWanted.contains(next.multihash) else { continue }
                state.alreadyHave(next)
                alreadyPresent += 1
                stack.append(contentsOf: try BlockLinks.links(of: next, bytes: bytes).reversed())
            }
            session.bitswap.noteWanted(wanted, session: id)
        }

        /// Hands the blocks of a message (`received`, their CIDs rebuilt from their bytes) to
        /// the store writer and follows their links; applies its presences.
        mutating func process(_ message: BitswapMessage, blocks received: ReceivedBlocks, from peer: PeerID) throws {
            for _ in 0..<received.unverifiable {
                _ = state.receivedBlock(CID.v1(codec: .raw, multihash: .identity([])), size: 0, from: peer)
            }
            var accepted: [(cid: CID, bytes: [UInt8])] = []
            var links: [CID] = []
            for (cid, data) in received.blocks {
                let elsewhere = session.bitswap.isWanted(cid.multihash, byOtherThan: id)
                switch state.receivedBlock(cid, size: data.count, from: peer, wantedElsewhere: elsewhere) {
                case .accepted:
                    do {
                        guard data.count <= Blockstore.maxBlockSize else {
                            throw IPFSError(.limitExceeded, "block of \(data.count) bytes exceeds \(Blockstore.maxBlockSize)")
                        }
                        links += try BlockLinks.links(of: cid, bytes: data)
                        accepted.append((cid, data))
                    } catch {
                        session.bitswap.logger.info("rejected a block", metadata: ["cid": "\(cid)", "peer": "\(peer)", "reason": "\(error)"])
                        state.rejectedBlock(cid, size: data.count, from: peer)
                    }
                case .duplicate:
                    break
                case .unrequested:
                    session.bitswap.logger.info("unrequested block (wrong bytes?)", metadata: ["cid": "\(cid)", "peer": "\(peer)", "strikes": "\(state.strikeCount(of: peer))"])
                }
            }
            // `receivedBlocks()` rebuilt every CID from its block's bytes: the hashes are
            // verified. One transaction for the whole message.
            if !accepted.isEmpty {
                state.storing(bytes: accepted.reduce(0) { $0 + $1.bytes.count })
                batches?.yield(accepted)
            }
            try walkLocal(from: links)
            for presence in message.blockPresences where presence.kind == .dontHave {
                state.receivedDontHave(presence.cid, from: peer)
            }
        }

        /// Sends want-blocks (with sendDontHave), opening streams as needed.
        mutating func send(
            _ requests: [PeerID: [CID]], streams: StreamTable, group: inout ThrowingTaskGroup<Void, any Error>,
            events: AsyncStream<Event>.Continuation
        ) async throws {
            for (peer, cids) in requests {
                var entries: [BitswapMessage.Entry] = []
                for cid in cids {
                    entries.append(.init(cid: cid, priority: nextPriority, wantType: .block, sendDontHave: true))
                    nextPriority = max(1, nextPriority - 1)
                }
                let message = BitswapMessage(wantlist: .init(entries: entries))
                do {
                    let negotiated = try await stream(to: peer, streams: streams, group: &group, events: events)
                    try await Bitswap.write(message, to: negotiated.stream)
                } catch {
                    session.bitswap.logger.info("cannot send wants; dropping peer", metadata: ["peer": "\(peer)", "reason": "\(error)"])
                    await streams.forget(peer)
                    state.drop(peer)
                }
            }
        }

        /// Sends cancels (best effort).
        func sendCancels(_ cancels: [PeerID: [CID]], streams: StreamTable) async throws {
            for (peer, cids) in cancels {
                guard let negotiated = await streams.stream(for: peer) else { continue }
                let message = BitswapMessage(wantlist: .init(entries: cids.map { .init(cid: $0, isCancel: true) }))
                try? await Bitswap.write(message, to: negotiated.stream)
            }
        }

        private func stream(
            to peer: PeerID, streams: StreamTable, group: inout ThrowingTaskGroup<Void, any Error>,
            events: AsyncStream<Event>.Continuation
        ) async throws -> MultistreamSelect.Negotiated {
            if let existing = await streams.stream(for: peer) { return existing }
            let negotiated = try await session.bitswap.host.newStream(to: peer, protocols: Bitswap.protocolIDs)
            await streams.set(negotiated, for: peer)
            let bitswap = session.bitswap
            group.addTask {
                // Peers like py-libp2p answer on the stream that carried the wants.
                do {
                    var reader = BitswapMessageReader(negotiated.stream)
                    while let message = try await reader.next() {
                        bitswap.route(message, from: peer)
                    }
                } catch {
                    bitswap.logger.debug("want stream ended", metadata: ["peer": "\(peer)", "reason": "\(error)"])
                }
                events.yield(.streamEnded(peer))
            }
            return negotiated
        }
    }
}
