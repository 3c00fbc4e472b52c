import LibP2P
import Logging
import Multiformats
import NIOCore
import Synchronization

/// Bitswap 1.2.0 client and server on a libp2p ``LibP2P/Host`` (ipfs/specs
/// `src/bitswap-protocol.md`; libp2p.md §6 and §0 items 5 and 9).
///
/// Server: every inbound Bitswap stream is read message by message; wantlists go into the
/// sender's ``BitswapLedger`` and are answered — HAVE / DONT_HAVE presences, blocks with their
/// CID prefix — on a stream *we* open to the peer, as go-bitswap does (go never reads replies on
/// its own outbound stream). One batch of at most ``BitswapLedger/maxBatchBytes`` is in flight per
/// peer. Replies are encoded for the protocol our outbound stream negotiated: 1.2.0 with
/// presences, 1.1.0 payload blocks, 1.0.0 bare blocks. Blocks are served as stored, without
/// hashing them again (the receiver verifies each one); local reads through
/// ``Blockstore/get(_:)`` still verify, and storing a block again repairs a corrupt copy.
///
/// Client: ``fetch(root:from:options:progress:)`` runs a ``BitswapSession``. Blocks arriving on
/// any stream (inbound, or inline on a session's own stream as py-libp2p replies) are routed to
/// the sessions that include the sender.
///
/// Call ``register()`` before connecting to peers, so Identify lists the protocols: go opens its
/// Bitswap stream only to peers whose Identify listed one.
public final class Bitswap: Sendable {
    /// Bitswap 1.2.0.
    public static let protocolID = "/ipfs/bitswap/1.2.0"
    /// Every protocol id we answer and propose, newest first.
    public static let protocolIDs = ["/ipfs/bitswap/1.2.0", "/ipfs/bitswap/1.1.0", "/ipfs/bitswap/1.0.0", "/ipfs/bitswap"]
    /// The most peers with a ledger at once; wants from further peers are refused.
    public static let maxPeerLedgers = 1024

    /// The host we serve on.
    public let host: Host
    /// Where blocks are read from and stored.
    public let blockstore: Blockstore
    let logger: Logger

    final class PeerLedger: Sendable {
        struct State {
            var ledger = BitswapLedger()
            var isSending = false
            var stream: MultistreamSelect.Negotiated?
        }
        let state = Mutex(State())
    }

    struct SessionEntry {
        var peers: Set<PeerID>
        var wanted: Set<Multihash>
        var deliver: @Sendable (BitswapMessage, ReceivedBlocks, PeerID) -> Void
    }

    private struct State {
        var ledgers: [PeerID: PeerLedger] = [:]
        var sessions: [UInt64: SessionEntry] = [:]
        var nextSessionID: UInt64 = 1
        var blocksSent = 0
        var bytesSent: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Creates the engine; call ``register()`` to start serving.
    public init(host: Host, blockstore: Blockstore, logger: Logger = Logger(label: "p2pchat.ipfs.bitswap")) {
        self.host = host
        self.blockstore = blockstore
        self.logger = logger
    }

    /// Registers the Bitswap handlers on the host (all four protocol ids).
    public func register() {
        for protocolID in Self.protocolIDs {
            host.setHandler(for: protocolID) { [weak self] incoming in
                guard let self else { return }
                try await self.serve(incoming)
            }
        }
    }

    /// Blocks and bytes we have sent as a server.
    public var served: (blocks: Int, bytes: UInt64) {
        state.withLock { ($0.blocksSent, $0.bytesSent) }
    }

    // MARK: Writing

    /// Writes one length-prefixed message.
    static func write(_ message: BitswapMessage, to stream: some ByteStream) async throws {
        try await stream.write(try message.lengthPrefixedBuffer())
    }

    // MARK: Server

    /// Serves one inbound stream: reads messages until EOF, answering wants in a child task so
    /// that cancels keep being read while blocks are sent.
    func serve(_ incoming: Host.IncomingStream) async throws {
        let peer = incoming.connection.remotePeer
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals { await self.sendResponses(to: peer) }
            }
            defer { signal.finish() }
            var reader = BitswapMessageReader(incoming.stream)
            while let message = try await reader.next() {
                if try handle(message, from: peer) { signal.yield() }
            }
            signal.finish()
            try await group.waitForAll()
        }
    }

    /// Applies a received message: the wantlist to the peer's ledger, blocks and presences to
    /// the sessions. Returns whether there are wants to answer.
    func handle(_ message: BitswapMessage, from peer: PeerID) throws -> Bool {
        route(message, from: peer)
        guard let wantlist = message.wantlist else { return false }
        let ledger = try state.withLock { state -> PeerLedger in
            if let existing = state.ledgers[peer] { return existing }
            guard state.ledgers.count < Self.maxPeerLedgers else {
                throw IPFSError(.limitExceeded, "Bitswap: ledgers for \(Self.maxPeerLedgers) peers already open")
            }
            let created = PeerLedger()
            state.ledgers[peer] = created
            return created
        }
        let dropped = ledger.state.withLock { state -> Int in
            let before = state.ledger.droppedEntries
            state.ledger.apply(wantlist)
            return state.ledger.droppedEntries - before
        }
        if dropped > 0 {
            logger.info("wantlist full, entries dropped", metadata: ["peer": "\(peer)", "dropped": "\(dropped)"])
        }
        return !wantlist.entries.isEmpty
    }

    /// Answers `peer`'s ledger batch by batch until it is empty, unless another task already is.
    func sendResponses(to peer: PeerID) async {
        guard let ledger = state.withLock({ $0.ledgers[peer] }) else { return }
        let isOurs = ledger.state.withLock { state -> Bool in
            if state.isSending { return false }
            state.isSending = true
            return true
        }
        guard isOurs else { return }
        while true {
            let batch = ledger.state.withLock { state -> [BitswapLedger.Answer] in
                let batch = state.ledger.nextBatch { cid in (try? self.blockstore.size(of: cid)) ?? nil }
                if batch.isEmpty { state.isSending = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await send(batch, to: peer, ledger: ledger)
            } catch {
                logger.info("cannot answer Bitswap peer; dropping its wantlist", metadata: ["peer": "\(peer)", "reason": "\(error)"])
                ledger.state.withLock { state in
                    state.ledger = BitswapLedger()
                    state.isSending = false
                    state.stream = nil
                }
                _ = state.withLock { $0.ledgers.removeValue(forKey: peer) }
                return
            }
        }
    }

    private func send(_ batch: [BitswapLedger.Answer], to peer: PeerID, ledger: PeerLedger) async throws {
        for attempt in 0..<2 {
            let negotiated: MultistreamSelect.Negotiated
            if let cached = ledger.state.withLock({ $0.stream }) {
                negotiated = cached
            } else {
                negotiated = try await host.newStream(to: peer, protocols: Self.protocolIDs)
                ledger.state.withLock { $0.stream = negotiated }
            }
            let (message, blocks, bytes) = response(to: batch, protocolID: negotiated.protocolID)
            guard !message.isEmpty else { return }
            do {
                try await Self.write(message, to: negotiated.stream)
                state.withLock { state in
                    state.blocksSent += blocks
                    state.bytesSent += bytes
                }
                return
            } catch {
                ledger.state.withLock { $0.stream = nil }
                await negotiated.stream.close()
                if attempt == 1 { throw error }
            }
        }
    }

    /// Builds the reply to a batch for the negotiated protocol version.
    func response(to batch: [BitswapLedger.Answer], protocolID: String) -> (BitswapMessage, blocks: Int, bytes: UInt64) {
        let hasPresences = protocolID == Self.protocolID
        let hasPrefixes = hasPresences || protocolID == "/ipfs/bitswap/1.1.0"
        var message = BitswapMessage()
        var blocks = 0
        var bytes: UInt64 = 0
        for answer in batch {
            let cid = answer.entry.cid
            var data: [UInt8]?
            if answer.blockSize != nil && (answer.entry.wantType == .block || !hasPresences) {
                do {
                    // Served as stored, not hashed again: every receiver rebuilds the CID from
                    // the bytes (bitswap-protocol.md, "Block"), as go-bitswap relies on with
                    // Kubo's default `Datastore.HashOnRead = false`.
                    data = try blockstore.getUnverified(cid)
                } catch {
                    logger.warning("cannot serve a stored block", metadata: ["cid": "\(cid)", "reason": "\(error)"])
                }
            }
            if let data {
                if hasPrefixes {
                    message.payload.append(BitswapMessage.Block(cid: cid, data: data))
                } else {
                    message.blocks.append(data)
                }
                blocks += 1
                bytes += UInt64(data.count)
            } else if hasPresences && answer.blockSize != nil && answer.entry.wantType == .have {
                message.blockPresences.append(.init(cid: cid, kind: .have))
            } else if hasPresences && answer.entry.sendDontHave {
                message.blockPresences.append(.init(cid: cid, kind: .dontHave))
            }
        }
        return (message, blocks, bytes)
    }

    // MARK: Client routing

    /// Hands blocks and presences to every session fetching from `peer`.
    ///
    /// The blocks are hashed here, on the task that read them from the stream, once for all
    /// sessions: a session then only stores them, and reading, hashing and storing overlap.
    func route(_ message: BitswapMessage, from peer: PeerID) {
        guard !message.payload.isEmpty || !message.blocks.isEmpty || !message.blockPresences.isEmpty else { return }
        let deliveries = state.withLock { state in
            state.sessions.values.filter { $0.peers.contains(peer) }.map(\.deliver)
        }
        guard !deliveries.isEmpty else {
            logger.debug("blocks from a peer no session fetches from", metadata: ["peer": "\(peer)"])
            return
        }
        let blocks = message.receivedBlocks()
        for deliver in deliveries { deliver(message, blocks, peer) }
    }

    func registerSession(peers: Set<PeerID>, deliver: @escaping @Sendable (BitswapMessage, ReceivedBlocks, PeerID) -> Void) -> UInt64 {
        state.withLock { state in
            let id = state.nextSessionID
            state.nextSessionID += 1
            state.sessions[id] = SessionEntry(peers: peers, wanted: [], deliver: deliver)
            return id
        }
    }

    func unregisterSession(_ id: UInt64) {
        _ = state.withLock { $0.sessions.removeValue(forKey: id) }
    }

    func noteWanted(_ keys: some Sequence<Multihash>, session id: UInt64) {
        state.withLock { state in state.sessions[id]?.wanted.formUnion(keys) }
    }

    func isWanted(_ key: Multihash, byOtherThan id: UInt64) -> Bool {
        state.withLock { state in state.sessions.contains { $0.key != id && $0.value.wanted.contains(key) } }
    }

    // MARK: Client

    /// Fetches the DAG under `root` from `peers` into the block store (see ``BitswapSession``).
    public func fetch(
        root: CID, from peers: [PeerID], options: BitswapSessionState.Options = .init(),
        progress: (@Sendable (BitswapSession.Progress) -> Void)? = nil,
        stored: (@Sendable ([(cid: CID, bytes: [UInt8])]) -> Void)? = nil
    ) async throws -> BitswapSession.Report {
        try await BitswapSession(bitswap: self, peers: peers, options: options).fetch(root: root, progress: progress, stored: stored)
    }
}
