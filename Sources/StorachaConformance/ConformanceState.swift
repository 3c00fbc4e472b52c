import Foundation
import IPLD
import Multiformats
import Storacha

/// What the conformance service remembers, in memory.
struct ConformanceState {
    /// One blob registered in a space (upload-api `BlobRegistry` entry).
    struct BlobEntry {
        var digest: Multihash
        var size: Int
        var cause: CID
        var insertedAt: String
    }

    /// One upload in a space.
    struct UploadEntry {
        var root: CID
        var shards: [CID]
        var insertedAt: String
        var updatedAt: String
    }

    /// A `space/blob/add` waiting for its `http/put` receipt.
    struct PendingAccept {
        var putTask: Delegation
        var acceptTask: Delegation
        var space: DID
        var digest: Multihash
        var size: Int
        var cause: CID
    }

    var baseURL: URL?
    var provisioned: Set<DID> = []
    var writesDisabled = false
    /// Stored blob bytes by multihash.
    var blobs: [Multihash: [UInt8]] = [:]
    /// Allocated sizes awaiting a PUT.
    var allocations: [Multihash: Int] = [:]
    var spaces: [DID: [BlobEntry]] = [:]
    var uploads: [DID: [UploadEntry]] = [:]
    /// Pending accepts by `http/put` task CID.
    var pending: [CID: PendingAccept] = [:]
    /// Receipts by the task they ran, for `/receipt/<task>`.
    var receipts: [CID: Receipt] = [:]
    /// Delegations stored by `access/delegate`.
    var delegations: [CID: Delegation] = [:]
}
