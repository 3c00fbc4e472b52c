import Foundation

/// One of our Storacha spaces as `p2pchat storacha space list` shows it.
public struct StorachaSpaceSummary: Codable, Hashable, Sendable {
    /// The space DID.
    public var space: String
    /// When our delegation for it expires, if ever.
    public var expiresAt: Date?
    /// The contacts that may deposit there now (not revoked).
    public var depositors: [String]
}
