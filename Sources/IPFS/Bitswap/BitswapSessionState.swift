import LibP2P
import Multiformats

/// The client side of one DAG fetch: which blocks are wanted, which are in flight at which
/// peer, and what to do on a block, a DONT_HAVE, a timeout or a lying peer
/// (ipfs/specs `bitswap-protocol.md`, "Bitswap 1.2.0 Requesting"; boxo
/// `client/internal/session`).
///
/// Want-blocks are pipelined: up to ``Options/maxWantsInFlight`` at once, spread over the
/// peers by load, each with `sendDontHave` so a peer that lacks a block says so at once and the
/// want moves to the next peer. A want unanswered for ``Options/wantTimeout`` moves too. A
/// block that no session asked for counts as a strike against its sender; at
/// ``Options/maxStrikes`` the peer is dropped and its wants go elsewhere.
///
/// A plain state machine; ``BitswapSession`` glues it to streams and a clock.
public struct BitswapSessionState: Sendable {
    /// Fetch tuning.
    public struct Options: Sendable, Hashable {
        /// Wants in flight across all peers: 128, 32 MiB of 256 KiB blocks, enough to keep one
        /// fast peer busy while received blocks are committed (boxo's broadcast limit is 64).
        public var maxWantsInFlight: Int
        /// How long a want may stay unanswered before it is asked elsewhere.
        public var wantTimeout: Duration
        /// How many times each peer may time out on one block before the fetch gives up.
        public var maxAttemptsPerPeer: Int
        /// Unrequested or wrong blocks tolerated from one peer before it is dropped.
        public var maxStrikes: Int
        /// Received block bytes that may wait for their store commit before no new wants go
        /// out: 32 MiB. Commits run beside the fetch instead of between its messages; this
        /// bounds the memory they hold when the disk is slower than the peers.
        public var maxUncommittedBytes: Int

        /// Creates options.
        public init(
            maxWantsInFlight: Int = 128, wantTimeout: Duration = .seconds(30), maxAttemptsPerPeer: Int = 2, maxStrikes: Int = 4,
            maxUncommittedBytes: Int = 32 << 20
        ) {
            self.maxWantsInFlight = max(1, maxWantsInFlight)
            self.wantTimeout = wantTimeout
            self.maxAttemptsPerPeer = max(1, maxAttemptsPerPeer)
            self.maxStrikes = max(1, maxStrikes)
            self.maxUncommittedBytes = max(1, maxUncommittedBytes)
        }
    }

    /// What happened to a received block.
    public enum BlockOutcome: Hashable, Sendable {
        /// Wanted: store it and enqueue its links.
        case accepted
        /// Already received (from another peer, or twice).
        case duplicate
        /// Nobody asked for it: a strike against the sender.
        case unrequested
    }

    struct InFlight: Hashable, Sendable {
        var cid: CID
        var peer: PeerID
        var sentAt: ContinuousClock.Instant
    }

    struct Attempts: Hashable, Sendable {
        var dontHave: Set<PeerID> = []
        var timeouts: [PeerID: Int] = [:]
    }

    /// The fetch settings.
    public let options: Options
    private(set) var peers: [PeerID]
    private(set) var strikes: [PeerID: Int] = [:]
    /// Peers dropped for misbehaviour or dead streams.
    public private(set) var droppedPeers: Set<PeerID> = []
    private var queue: [CID] = []
    private var queueHead = 0
    private var queued: Set<Multihash> = []
    private var inFlight: [Multihash: InFlight] = [:]
    private var attempts: [Multihash: Attempts] = [:]
    /// Every multihash this session ever wanted (blocks for these are never strikes).
    public private(set) var everWanted: Set<Multihash> = []
    private var received: Set<Multihash> = []
    /// Blocks and bytes received and accepted so far.
    public private(set) var blocksReceived = 0
    /// Block bytes received and accepted so far.
    public private(set) var bytesReceived: UInt64 = 0
    /// Why the fetch cannot complete, once it cannot.
    public private(set) var failure: IPFSError?
    /// Batches of accepted blocks handed to the store and not yet committed.
    public private(set) var uncommittedBatches = 0
    /// Bytes of those batches.
    public private(set) var uncommittedBytes = 0

    /// A session over `peers`, in preference order.
    public init(peers: [PeerID], options: Options = Options()) {
        self.peers = peers
        self.options = options
    }

    /// Whether every wanted block arrived and is committed to the store.
    public var isComplete: Bool { queued.isEmpty && inFlight.isEmpty && uncommittedBatches == 0 && failure == nil }
    /// The number of wants in flight.
    public var inFlightCount: Int { inFlight.count }

    private var activePeers: [PeerID] { peers.filter { !droppedPeers.contains($0) } }

    /// Adds a block to fetch (ignored if already wanted or received).
    public mutating func want(_ cid: CID) {
        let key = cid.multihash
        guard !received.contains(key), inFlight[key] == nil, !queued.contains(key) else { return }
        queue.append(cid)
        queued.insert(key)
        everWanted.insert(key)
    }

    /// Marks a block as already held locally (not fetched, but counts as received).
    public mutating func alreadyHave(_ cid: CID) {
        received.insert(cid.multihash)
        everWanted.insert(cid.multihash)
    }

    /// Accepted blocks of `bytes` went to the store; until ``committed(bytes:)`` they count
    /// against ``Options/maxUncommittedBytes``.
    public mutating func storing(bytes: Int) {
        uncommittedBatches += 1
        uncommittedBytes += bytes
    }

    /// A batch handed over with ``storing(bytes:)`` is committed (batches commit in order).
    public mutating func committed(bytes: Int) {
        uncommittedBatches = max(0, uncommittedBatches - 1)
        uncommittedBytes = max(0, uncommittedBytes - bytes)
    }

    /// Assigns queued wants to peers up to the in-flight limit; returns the want-blocks to send.
    /// Sends nothing while ``Options/maxUncommittedBytes`` wait for the store.
    public mutating func schedule(now: ContinuousClock.Instant) -> [PeerID: [CID]] {
        var requests: [PeerID: [CID]] = [:]
        guard failure == nil, uncommittedBytes < options.maxUncommittedBytes else { return requests }
        var deferred: [CID] = []
        while inFlight.count < options.maxWantsInFlight, queueHead < queue.count {
            let cid = queue[queueHead]
            queueHead += 1
            guard queued.remove(cid.multihash) != nil, !received.contains(cid.multihash) else { continue }
            guard let peer = choosePeer(for: cid.multihash) else {
                if failure != nil { break }
                deferred.append(cid)
                continue
            }
            inFlight[cid.multihash] = InFlight(cid: cid, peer: peer, sentAt: now)
            requests[peer, default: []].append(cid)
        }
        compactQueue()
        for cid in deferred.reversed() { requeueFront(cid) }
        return requests
    }

    private func load(of peer: PeerID) -> Int {
        inFlight.values.reduce(0) { $0 + ($1.peer == peer ? 1 : 0) }
    }

    /// The least-loaded peer that has not said DONT_HAVE, preferring peers that have not timed
    /// out on this block; records a failure if there is none.
    private mutating func choosePeer(for key: Multihash) -> PeerID? {
        let tried = attempts[key] ?? Attempts()
        let candidates = activePeers.filter { !tried.dontHave.contains($0) && (tried.timeouts[$0] ?? 0) < options.maxAttemptsPerPeer }
        guard !candidates.isEmpty else {
            if activePeers.isEmpty {
                failure = IPFSError(.peerUnavailable, "no usable peer left (dropped: \(droppedPeers.count))")
            } else if tried.timeouts.isEmpty {
                failure = IPFSError(.blockNotFound, "no peer has block \(cidText(key))")
            } else {
                failure = IPFSError(.timeout, "no peer sent block \(cidText(key)) in time")
            }
            return nil
        }
        let fewestTimeouts = candidates.map { tried.timeouts[$0] ?? 0 }.min() ?? 0
        return candidates.filter { (tried.timeouts[$0] ?? 0) == fewestTimeouts }.min { load(of: $0) < load(of: $1) }
    }

    private func cidText(_ key: Multihash) -> String {
        inFlight[key].map { "\($0.cid)" } ?? queue.first { $0.multihash == key }.map { "\($0)" } ?? "\(key.digest.prefix(8))"
    }

    private mutating func requeueFront(_ cid: CID) {
        guard !queued.contains(cid.multihash), !received.contains(cid.multihash) else { return }
        if queueHead > 0 {
            queueHead -= 1
            queue[queueHead] = cid
        } else {
            queue.insert(cid, at: 0)
        }
        queued.insert(cid.multihash)
    }

    private mutating func compactQueue() {
        if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    /// A block arrived from `peer` (its CID already rebuilt from its bytes).
    ///
    /// - Parameter wantedElsewhere: whether another session on this node wants it (then an
    ///   unrequested block is not a strike).
    public mutating func receivedBlock(_ cid: CID, size: Int, from peer: PeerID, wantedElsewhere: Bool = false) -> BlockOutcome {
        let key = cid.multihash
        if received.contains(key) { return .duplicate }
        guard everWanted.contains(key) else {
            if !wantedElsewhere { strike(peer) }
            return .unrequested
        }
        received.insert(key)
        inFlight.removeValue(forKey: key)
        attempts.removeValue(forKey: key)
        // A queued copy is skipped when `schedule` reaches it.
        queued.remove(key)
        blocksReceived += 1
        bytesReceived += UInt64(size)
        return .accepted
    }

    /// A block could not be stored or parsed after all (bytes hash right but are not valid in
    /// their codec): counts as a strike and wants it again from someone else.
    public mutating func rejectedBlock(_ cid: CID, size: Int, from peer: PeerID) {
        let key = cid.multihash
        received.remove(key)
        blocksReceived -= 1
        bytesReceived -= UInt64(size)
        attempts[key, default: Attempts()].dontHave.insert(peer)
        strike(peer)
        requeueFront(cid)
    }

    /// `peer` said it lacks `cid`: ask the next peer.
    public mutating func receivedDontHave(_ cid: CID, from peer: PeerID) {
        let key = cid.multihash
        attempts[key, default: Attempts()].dontHave.insert(peer)
        if let flight = inFlight[key], flight.peer == peer {
            inFlight.removeValue(forKey: key)
            requeueFront(flight.cid)
        }
    }

    /// Moves wants older than the timeout to other peers; returns the cancels to send to the
    /// peers that were too slow.
    public mutating func expire(now: ContinuousClock.Instant) -> [PeerID: [CID]] {
        var cancels: [PeerID: [CID]] = [:]
        for (key, flight) in inFlight where now - flight.sentAt >= options.wantTimeout {
            inFlight.removeValue(forKey: key)
            attempts[key, default: Attempts()].timeouts[flight.peer, default: 0] += 1
            cancels[flight.peer, default: []].append(flight.cid)
            requeueFront(flight.cid)
        }
        return cancels
    }

    /// Drops `peer` (dead stream, misbehaviour); its wants go back to the queue.
    public mutating func drop(_ peer: PeerID) {
        guard !droppedPeers.contains(peer) else { return }
        droppedPeers.insert(peer)
        for (key, flight) in inFlight where flight.peer == peer {
            inFlight.removeValue(forKey: key)
            requeueFront(flight.cid)
        }
        if activePeers.isEmpty && !(queued.isEmpty && inFlight.isEmpty) {
            failure = IPFSError(.peerUnavailable, "every peer was dropped (misbehaving or unreachable)")
        }
    }

    private mutating func strike(_ peer: PeerID) {
        strikes[peer, default: 0] += 1
        if strikes[peer, default: 0] >= options.maxStrikes { drop(peer) }
    }

    /// The wants still in flight, by peer (for the final cancels).
    public var outstanding: [PeerID: [CID]] {
        var result: [PeerID: [CID]] = [:]
        for flight in inFlight.values { result[flight.peer, default: []].append(flight.cid) }
        return result
    }

    /// The strike count of `peer`.
    public func strikeCount(of peer: PeerID) -> Int { strikes[peer] ?? 0 }
}
