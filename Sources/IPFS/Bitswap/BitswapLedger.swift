import Multiformats

/// What the Bitswap server owes one peer: its wantlist, answered in priority order in
/// batches of at most ``maxBatchBytes`` (ipfs/specs `bitswap-protocol.md`, "Bitswap 1.2.0
/// Responding"; boxo `server/internal/decision/engine.go` sends up to 1 MiB per message). The
/// server sends one batch, waits for the write to complete, then takes the next, so at most one
/// batch (plus the stream's flow-control window) is in flight per peer.
///
/// A plain state machine: the async glue in ``Bitswap`` feeds it wantlists and takes batches.
public struct BitswapLedger: Sendable {
    /// The most wants kept per peer; further entries are dropped (boxo caps queued wantlist
    /// entries per peer the same way).
    public static let maxWantlistEntries = 1024
    /// The most response bytes in one batch (blocks count their size, presences 64 bytes):
    /// 3 MiB, so that a batch with its framing stays below the 4 MiB message limit that go and
    /// we enforce (``BitswapMessage/maxMessageSize``) while one fast peer gets large writes.
    public static let maxBatchBytes = 3 << 20
    /// What a presence costs against the batch budget.
    static let presenceCost = 64

    /// One want as received.
    public struct Want: Hashable, Sendable {
        /// The entry (want-have or want-block).
        public var entry: BitswapMessage.Entry
        /// Arrival order, to break priority ties first-come first-served.
        var sequence: UInt64
    }

    /// One item of a batch: the want and the size of our block (`nil` if we lack it).
    public struct Answer: Hashable, Sendable {
        /// The want being answered.
        public var entry: BitswapMessage.Entry
        /// Our block's size, or `nil` when we do not have it.
        public var blockSize: Int?
    }

    private var wants: [CID: Want] = [:]
    private var nextSequence: UInt64 = 0
    /// Entries dropped because the wantlist was full.
    public private(set) var droppedEntries = 0

    /// An empty ledger.
    public init() {}

    /// The number of open wants.
    public var count: Int { wants.count }

    /// Whether `cid` is wanted.
    public func isWanted(_ cid: CID) -> Bool { wants[cid] != nil }

    /// Applies a received wantlist: a full list replaces ours, cancels remove, other entries
    /// add or update (spec "Wantlist").
    public mutating func apply(_ wantlist: BitswapMessage.Wantlist) {
        if wantlist.isFull { wants.removeAll() }
        for entry in wantlist.entries {
            if entry.isCancel {
                wants.removeValue(forKey: entry.cid)
                continue
            }
            if var existing = wants[entry.cid] {
                // A want-block supersedes a want-have, never the other way round.
                if existing.entry.wantType == .block && entry.wantType == .have { continue }
                existing.entry = entry
                wants[entry.cid] = existing
                continue
            }
            guard wants.count < Self.maxWantlistEntries else {
                droppedEntries += 1
                continue
            }
            wants[entry.cid] = Want(entry: entry, sequence: nextSequence)
            nextSequence += 1
        }
    }

    /// Takes the next batch of wants to answer, highest priority first, within
    /// ``maxBatchBytes`` (a single larger block still goes alone). Answered wants leave the
    /// ledger; wants for blocks we lack are answered (DONT_HAVE if asked) and dropped too.
    ///
    /// - Parameter blockSize: our stored size of a block, or `nil` if we lack it.
    public mutating func nextBatch(blockSize: (CID) -> Int?) -> [Answer] {
        guard !wants.isEmpty else { return [] }
        let ordered = wants.values.sorted {
            $0.entry.priority != $1.entry.priority ? $0.entry.priority > $1.entry.priority : $0.sequence < $1.sequence
        }
        var batch: [Answer] = []
        var bytes = 0
        for want in ordered {
            let size = blockSize(want.entry.cid)
            let cost = (want.entry.wantType == .block ? size : nil) ?? Self.presenceCost
            if !batch.isEmpty && bytes + cost > Self.maxBatchBytes { break }
            bytes += cost
            batch.append(Answer(entry: want.entry, blockSize: size))
            wants.removeValue(forKey: want.entry.cid)
        }
        return batch
    }
}
