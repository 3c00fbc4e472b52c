import Multiformats
import Synchronization

/// What the host knows about other peers: addresses, keys, protocols and agent, learned from
/// dials and Identify (libp2p specs identify/README.md). Thread-safe.
public final class PeerStore: Sendable {
    /// One peer's record.
    public struct Record: Sendable, Hashable {
        /// The peer's identity key, once seen in a handshake or Identify.
        public var publicKey: PublicKey?
        /// Addresses the peer listens on (without `/p2p/`).
        public var addresses: [Multiaddr] = []
        /// Protocols the peer announced in Identify.
        public var protocols: [String] = []
        /// The peer's agent version from Identify.
        public var agentVersion: String?
        /// The peer's protocol version from Identify.
        public var protocolVersion: String?
        /// Our address as the peer observed it.
        public var observedAddress: Multiaddr?
    }

    /// The most peers remembered; the store drops the oldest beyond this.
    public static let maxPeers = 4096
    /// The most addresses kept per peer.
    public static let maxAddressesPerPeer = 64

    private let records = Mutex<[PeerID: Record]>([:])

    public init() {}

    /// The record for `peer`, if any.
    public func record(for peer: PeerID) -> Record? {
        records.withLock { $0[peer] }
    }

    /// All peers with a record.
    public var peers: [PeerID] {
        records.withLock { Array($0.keys) }
    }

    /// Adds addresses for `peer` (deduplicated, capped).
    public func addAddresses(_ addresses: [Multiaddr], for peer: PeerID) {
        records.withLock { records in
            guard records[peer] != nil || records.count < Self.maxPeers else { return }
            var record = records[peer] ?? Record()
            for address in addresses.map({ $0.removingPeerID() }) where !record.addresses.contains(address) {
                guard record.addresses.count < Self.maxAddressesPerPeer else { break }
                record.addresses.append(address)
            }
            records[peer] = record
        }
    }

    /// Applies `update` to the record of `peer`, creating it if needed.
    public func update(_ peer: PeerID, _ update: (inout Record) -> Void) {
        records.withLock { records in
            guard records[peer] != nil || records.count < Self.maxPeers else { return }
            var record = records[peer] ?? Record()
            update(&record)
            records[peer] = record
        }
    }
}
