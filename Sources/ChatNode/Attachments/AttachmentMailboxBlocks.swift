import ChatStore
import Foundation
import IPFS
import IPLD
import Logging
import Mailbox
import Multiformats

/// An attachment's blocks in the recipient's mailbox queues (issue 5, Attachments): the sender
/// deposits the blob's DAG next to the envelope when the recipient is offline, so the
/// recipient can fetch it even when the sender is offline by then.
enum AttachmentMailboxBlocks {
    /// The most block bytes per `depositBlocks` request (a single larger block goes alone).
    static let depositBatchBytes = 1 << 20
    /// The most CIDs asked for per `fetchBlocks` request (bounds the memory of one answer).
    static let fetchBatchCount = 16
    /// The most blocks one attachment DAG may have (bounds a walk over a hostile DAG).
    static let maxBlocks = 1 << 20

    /// The CIDs a block links to (dag-pb nodes; raw leaves have none).
    static func links(of cid: CID, bytes: [UInt8]) throws -> [CID] {
        guard cid.codec == PBNode.codec else { return [] }
        return try PBNode(parsing: bytes).links.map(\.hash)
    }

    /// Walks the DAG under `root` in our block store, root first, handing `deposit` batches
    /// of at most ``depositBatchBytes`` (or one larger block).
    static func forEachBatch(
        root: CID, blockstore: Blockstore, _ deposit: ([MailboxResponse.Block]) async throws -> Void
    ) async throws {
        var stack = [root]
        var seen: Set<CID> = [root]
        var batch: [MailboxResponse.Block] = []
        var batchBytes = 0
        while let cid = stack.popLast() {
            guard let bytes = try blockstore.get(cid) else {
                throw ChatNodeError(.malformedInput, "attachment block \(cid) is not in our block store")
            }
            for link in try links(of: cid, bytes: bytes).reversed() where seen.insert(link).inserted {
                guard seen.count <= maxBlocks else { throw ChatNodeError(.limitExceeded, "attachment DAG has too many blocks") }
                stack.append(link)
            }
            if !batch.isEmpty && batchBytes + bytes.count > depositBatchBytes {
                try await deposit(batch)
                batch = []
                batchBytes = 0
            }
            batch.append(.init(cid: cid, data: bytes))
            batchBytes += bytes.count
        }
        if !batch.isEmpty { try await deposit(batch) }
    }

    /// Fetches the DAG under `root` from one queue, breadth first (root, then its links),
    /// skipping blocks we already hold, verifying each and storing it in `blockstore`. Returns
    /// every CID of the DAG, or `nil` if the queue lacks a block.
    static func fetch(
        root: CID, from credentials: QueueCredentials, over session: MailboxSession, into blockstore: Blockstore
    ) async throws -> [CID]? {
        var all: [CID] = []
        var seen: Set<CID> = [root]
        var frontier = [root]
        while !frontier.isEmpty {
            var next: [CID] = []
            for start in stride(from: 0, to: frontier.count, by: fetchBatchCount) {
                let part = Array(frontier[start..<min(frontier.count, start + fetchBatchCount)])
                var blocks: [CID: [UInt8]] = [:]
                var wanted: [CID] = []
                for cid in part {
                    if let bytes = try blockstore.get(cid) { blocks[cid] = bytes } else { wanted.append(cid) }
                }
                if !wanted.isEmpty {
                    let fetched = try await session.fetchBlocks(wanted, from: credentials)
                    guard fetched.missing.isEmpty, fetched.corrupt.isEmpty else { return nil }
                    // `putMany` checks every block against its CID (and the size limit) again.
                    try blockstore.putMany(fetched.envelopes.map { ($0.cid, $0.data) })
                    for block in fetched.envelopes { blocks[block.cid] = block.data }
                }
                for cid in part {
                    guard let bytes = blocks[cid] else { return nil }
                    all.append(cid)
                    for link in try links(of: cid, bytes: bytes) where seen.insert(link).inserted {
                        guard seen.count <= maxBlocks else { throw ChatNodeError(.limitExceeded, "attachment DAG has too many blocks") }
                        next.append(link)
                    }
                }
            }
            frontier = next
        }
        return all
    }
}
