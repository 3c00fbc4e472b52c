import Foundation

/// A contact's ratchet session as stored: an opaque blob (ChatCrypto's versioned format) and
/// the row version used for optimistic concurrency.
public struct StoredSession: Hashable, Sendable {
    /// The serialized session state.
    public var state: Data
    /// Increments on every save; pass it back as `expectedVersion` when saving the next state.
    public var version: Int64
    /// When it was last saved.
    public var updatedAt: Date
}
