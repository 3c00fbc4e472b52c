import Foundation
import GRDB
import LibP2P

/// Who we are, as stored in `local_identity` (a single row).
///
/// The libp2p private key stays in the home's identity file; this row names the peer ID it
/// belongs to so that a database is never used with another identity by mistake.
public struct LocalProfile: Hashable, Sendable {
    /// Our display name, shown to contacts in invites.
    public var displayName: String
    /// Our peer ID (derived from the identity file's key).
    public var peerID: PeerID
    /// The TCP port the node listens on, kept across restarts so contacts' stored addresses
    /// stay valid; `nil` until the node first listens.
    public var listenPort: UInt16?
    /// When the profile was first stored.
    public var createdAt: Date
    /// When the profile last changed.
    public var updatedAt: Date
}

extension LocalProfile: FetchableRecord, PersistableRecord {
    /// The table name.
    public static var databaseTableName: String { "local_identity" }

    /// Decodes a row; a bad peer ID is `.corruptRecord`.
    public init(row: Row) throws {
        displayName = try row.decode(forColumn: "display_name")
        let peerText: String = try row.decode(forColumn: "peer_id")
        do {
            peerID = try PeerID(peerText)
        } catch {
            throw ChatStoreError(.corruptRecord, "stored local peer ID \(peerText) does not parse", underlying: error)
        }
        let port: Int64? = try row.decode(forColumn: "listen_port")
        listenPort = port.flatMap(UInt16.init(exactly:))
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
        updatedAt = Date(millisecondsSince1970: try row.decode(forColumn: "updated_at"))
    }

    /// Encodes the single row (id 1).
    public func encode(to container: inout PersistenceContainer) throws {
        container["id"] = 1
        container["display_name"] = displayName
        container["peer_id"] = peerID.description
        container["listen_port"] = listenPort.map { Int64($0) }
        container["created_at"] = createdAt.millisecondsSince1970
        container["updated_at"] = updatedAt.millisecondsSince1970
    }
}
