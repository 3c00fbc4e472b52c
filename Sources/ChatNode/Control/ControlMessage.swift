/// A request from a command (`p2pchat send`, `status`, …) to the node running for the same home,
/// over the home's local control socket: one JSON object per line.
public struct ControlRequest: Codable, Sendable, Hashable {
    /// What the command asks for.
    public enum Operation: String, Codable, Sendable {
        /// New work is in the database (outbox, read receipts): deliver now.
        case kick
        /// Which contacts are online.
        case presence
        /// The node's current listen addresses.
        case addresses
    }

    /// The operation.
    public var op: Operation

    public init(op: Operation) {
        self.op = op
    }
}

/// The node's answer to a `ControlRequest`.
public struct ControlResponse: Codable, Sendable, Hashable {
    /// Whether the request succeeded.
    public var ok: Bool
    /// Why it failed.
    public var error: String?
    /// For `presence`: the PeerIDs of connected contacts.
    public var online: [String]?
    /// For `addresses`: full multiaddrs ending in `/p2p/<peer id>`.
    public var addresses: [String]?

    public init(ok: Bool, error: String? = nil, online: [String]? = nil, addresses: [String]? = nil) {
        self.ok = ok
        self.error = error
        self.online = online
        self.addresses = addresses
    }
}
