/// A message key kept for a message that has not arrived yet (Double Ratchet §3.2 `MKSKIPPED`,
/// §4 keyed by header key), with the time it was stored so it can expire.
struct SkippedMessageKey: Hashable, Sendable {
    /// The header key of the chain the message belongs to.
    let headerKey: [UInt8]
    /// The message number in that chain.
    let messageNumber: UInt32
    let messageKey: [UInt8]
    /// Milliseconds since 1970 when the key was derived.
    let storedAt: UInt64
}
