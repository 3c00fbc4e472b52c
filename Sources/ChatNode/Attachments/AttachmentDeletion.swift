import ChatStore

/// What ``ChatAccount/deleteReceivedAttachments(_:)`` removed.
public struct AttachmentDeletion: Hashable, Sendable {
    /// The failure reason a received attachment carries once its file was deleted: it stays
    /// `failed("deleted")` and is not fetched again.
    public static let reason = "deleted"

    /// The messages whose attachment files were deleted, in the order asked.
    public var deleted: [MessageID] = []
    /// Bytes of decrypted files removed.
    public var fileBytes: Int64 = 0
    /// Bytes of blocks the block store's garbage collection freed: the released blobs, and any
    /// other block no pin reaches. `nil` when the collection was deferred because blocks were
    /// being written (in this process it runs when the last writer ends; after another
    /// process's writes, at the next collection).
    public var blockBytes: UInt64?

    public init() {}
}
