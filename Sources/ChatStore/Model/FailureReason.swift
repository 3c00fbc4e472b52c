/// Why a message ended in `failed`. Extensible like the error codes.
public struct FailureReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stored name, e.g. `expired`.
    public let rawValue: String

    /// Wraps a reason name.
    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// The TTL passed before the message was delivered (ARCHITECTURE.md §Delivery step 5).
    public static let expired = FailureReason(rawValue: "expired")
    /// The recipient or every mailbox refused it permanently.
    public static let rejected = FailureReason(rawValue: "rejected")
    /// The message could not be encrypted (no session, no bundle).
    public static let unsealable = FailureReason(rawValue: "unsealable")
}
