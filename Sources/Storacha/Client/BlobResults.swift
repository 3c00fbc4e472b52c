import Foundation
import IPLD
import Multiformats

/// The outcome of ``StorachaClient/addBlob(_:to:proofs:)``.
public struct BlobAddResult: Sendable, Hashable {
    /// The blob's sha2-256 multihash (its identity in `space/blob/*`).
    public var digest: Multihash
    /// The blob's size in bytes.
    public var size: Int
    /// `blob/accept`'s `out.ok.site`: the location commitment's CID, if given.
    public var site: CID?
    /// The raw-codec CID for gateway retrieval.
    public var cid: CID { CID.v1(codec: .raw, multihash: digest) }
}

/// One entry of `space/blob/list` (upload-service `capabilities/src/types.ts BlobListItem`).
public struct BlobListItem: Sendable, Hashable {
    /// The blob's multihash.
    public var digest: Multihash
    /// Its size.
    public var size: Int
    /// The invocation that added it.
    public var cause: CID?
    /// When it was added (ISO 8601 text as the service gives it).
    public var insertedAt: String?

    /// Parses `{blob: {digest, size}, cause, insertedAt}`.
    public init(parsing value: IPLDValue) throws {
        guard let blob = value["blob"], let digestBytes = blob["digest"]?.bytesValue,
              let size = blob["size"]?.integerValue?.intValue
        else {
            throw StorachaError(.malformedInput, "blob list item must have blob.digest and blob.size")
        }
        do {
            digest = try Multihash(bytes: digestBytes)
        } catch {
            throw StorachaError(.malformedInput, "blob list digest is not a multihash", underlying: error)
        }
        self.size = size
        cause = value["cause"]?.linkValue
        insertedAt = value["insertedAt"]?.stringValue
    }

    /// The raw-codec CID for gateway retrieval.
    public var cid: CID { CID.v1(codec: .raw, multihash: digest) }
}

/// One entry of `upload/list`.
public struct UploadListItem: Sendable, Hashable {
    /// The upload's root.
    public var root: CID
    /// Its shards, when the service still returns them (dropped 2026-03, upload-service #680).
    public var shards: [CID]
    /// When it was added.
    public var insertedAt: String?
    /// When it was last changed.
    public var updatedAt: String?

    /// Parses `{root, shards?, insertedAt, updatedAt}`.
    public init(parsing value: IPLDValue) throws {
        guard let root = value["root"]?.linkValue else {
            throw StorachaError(.malformedInput, "upload list item has no root link")
        }
        self.root = root
        shards = value["shards"]?.listValue?.compactMap(\.linkValue) ?? []
        insertedAt = value["insertedAt"]?.stringValue
        updatedAt = value["updatedAt"]?.stringValue
    }
}

/// A page of a paginated listing (`{cursor?, before?, after?, size, results}`).
public struct ListPage<Item: Sendable & Hashable>: Sendable, Hashable {
    /// The entries.
    public var results: [Item]
    /// The cursor for the next page, if there is one.
    public var cursor: String?
    /// The number of entries on this page, as the service reports it.
    public var size: Int

    static func parse(_ value: IPLDValue, item: (IPLDValue) throws -> Item) throws -> ListPage {
        guard let results = value["results"]?.listValue else {
            throw StorachaError(.malformedInput, "list result has no results")
        }
        return ListPage(
            results: try results.map(item), cursor: value["cursor"]?.stringValue,
            size: value["size"]?.integerValue?.intValue ?? results.count
        )
    }
}
