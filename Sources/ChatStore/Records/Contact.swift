import Foundation
import GRDB
import LibP2P
import Multiformats

/// Someone we chat with. Online state is not stored: presence lives in the node's memory.
public struct Contact: Hashable, Sendable, Identifiable {
    /// The local id.
    public var id: ContactID
    /// The name we call them by; unique case-insensitively.
    public var displayName: String
    /// Their libp2p peer ID, the address of the user.
    public var peerID: PeerID
    /// Where they were last reachable (multiaddrs, newest knowledge first).
    public var addresses: [Multiaddr]
    /// Their prekey bundle as received (ChatCrypto's format), until a session exists.
    public var preKeyBundle: Data?
    /// Their mailbox queue addresses (opaque, Mailbox's format) where we deposit when they are offline.
    public var mailboxes: [Data]
    /// The 1:1 conversation with them.
    public var conversationID: ConversationID
    /// When we added them.
    public var createdAt: Date
    /// When we last heard from them directly, if ever.
    public var lastSeenAt: Date?

    /// The case- and normalization-insensitive key that makes names unique.
    static func nameKey(_ name: String) -> String {
        name.precomposedStringWithCanonicalMapping.lowercased()
    }
}

extension Contact: FetchableRecord {
    /// Decodes `contacts.*` joined with the direct conversation's id as `conversation_id`.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        displayName = try row.decode(forColumn: "display_name")
        let peerText: String = try row.decode(forColumn: "peer_id")
        do {
            peerID = try PeerID(peerText)
        } catch {
            throw ChatStoreError(.corruptRecord, "stored peer ID \(peerText) does not parse", underlying: error)
        }
        let addressTexts = try JSONList.decode([String].self, from: row.decode(forColumn: "addresses"), what: "addresses")
        do {
            addresses = try addressTexts.map(Multiaddr.init)
        } catch {
            throw ChatStoreError(.corruptRecord, "stored address of \(displayName) does not parse", underlying: error)
        }
        preKeyBundle = try row.decode(forColumn: "prekey_bundle")
        mailboxes = try JSONList.decode([Data].self, from: row.decode(forColumn: "mailboxes"), what: "mailboxes")
        conversationID = try row.decode(forColumn: "conversation_id")
        createdAt = Date(millisecondsSince1970: try row.decode(forColumn: "created_at"))
        lastSeenAt = try (row.decode(Int64?.self, forColumn: "last_seen_at")).map(Date.init(millisecondsSince1970:))
    }

    /// The select that `init(row:)` decodes; append `WHERE …`.
    static let selectSQL = """
        SELECT contacts.*, conversations.id AS conversation_id
        FROM contacts JOIN conversations ON conversations.contact_id = contacts.id AND conversations.kind = 'direct'
        """
}

/// JSON text columns holding lists (addresses as multiaddr text, mailboxes as base64).
enum JSONList {
    static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw ChatStoreError(.corruptRecord, "stored \(what) list does not decode", underlying: error)
        }
    }
}
