import LibP2P
import Synchronization

/// Which peers are connected right now, from the host's connection events. In memory only:
/// presence is never stored.
public final class PresenceTracker: Sendable {
    private let online = Mutex<Set<PeerID>>([])

    public init() {}

    /// Applies one host event; returns the peer whose presence changed, with its new state.
    @discardableResult
    public func apply(_ event: HostEvent) -> (peer: PeerID, isOnline: Bool)? {
        switch event {
        case .connected(let peer, _, _):
            return online.withLock { $0.insert(peer).inserted } ? (peer, true) : nil
        case .disconnected(let peer):
            return online.withLock { $0.remove(peer) != nil } ? (peer, false) : nil
        case .identified:
            return nil
        }
    }

    /// Whether `peer` is connected.
    public func isOnline(_ peer: PeerID) -> Bool {
        online.withLock { $0.contains(peer) }
    }

    /// All connected peers.
    public var onlinePeers: Set<PeerID> {
        online.withLock { $0 }
    }
}
