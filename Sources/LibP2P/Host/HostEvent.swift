import Multiformats

/// Something that happened in a `Host`, for the layers above (presence, UIs).
public enum HostEvent: Sendable, Hashable {
    /// A secured, multiplexed connection to `peer` is open.
    case connected(PeerID, direction: Connection.Direction, remoteAddress: Multiaddr?)
    /// The last connection to `peer` closed.
    case disconnected(PeerID)
    /// Identify completed for `peer`; its record in the peer store is current.
    case identified(PeerID)
}
