/// What one drain of our Storacha spaces did.
public struct StorachaDrainReport: Sendable, Hashable, Codable {
    /// Drops fetched (hash verified by the client).
    public var fetched = 0
    /// New messages stored.
    public var stored = 0
    /// Drops we already had (the same message by another path or mailbox).
    public var duplicates = 0
    /// Drops refused (cannot be opened, unknown tag); removed from the space.
    public var rejected = 0
    /// Drops removed from the space after storing.
    public var removed = 0
    /// Blobs that are not drops (other uses of the space); left alone.
    public var skipped = 0
    /// Blobs that could not be fetched; left for the next drain.
    public var failedBlobs = 0
    /// Spaces that could not be listed.
    public var failedSpaces = 0

    public init() {}

    static func += (lhs: inout StorachaDrainReport, rhs: StorachaDrainReport) {
        lhs.fetched += rhs.fetched
        lhs.stored += rhs.stored
        lhs.duplicates += rhs.duplicates
        lhs.rejected += rhs.rejected
        lhs.removed += rhs.removed
        lhs.skipped += rhs.skipped
        lhs.failedBlobs += rhs.failedBlobs
        lhs.failedSpaces += rhs.failedSpaces
    }
}
