import Foundation

/// One event on the `/ws` stream, sent as a JSON text frame with a `type` field:
///
/// - `hello`: first frame after connecting (the client refetches everything then);
/// - `message`: a new visible message, sent or received, `{"message": Message}`;
/// - `state`: a message's delivery state changed, `{"message": Message}`;
/// - `presence`: a contact came online or went offline, `{"contactID", "peerID", "online"}`;
/// - `contacts`: the contact list changed (added, renamed, unread counts), `{"contacts": [Contact]}`;
/// - `queue`: the offline queue's counts changed, `{"counts": {"queued": 2, ...}}`.
enum WebEvent: Sendable, Hashable {
    case hello(peerID: String)
    case message(MessageJSON)
    case state(MessageJSON)
    case presence(contactID: Int64, peerID: String, online: Bool)
    case contacts([ContactJSON])
    case queue(QueueCountsJSON)

    /// The event's `type` field.
    var type: String {
        switch self {
        case .hello: "hello"
        case .message: "message"
        case .state: "state"
        case .presence: "presence"
        case .contacts: "contacts"
        case .queue: "queue"
        }
    }

    /// The JSON text frame.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension WebEvent: Encodable {
    private enum Key: String, CodingKey {
        case type, peerID, message, contactID, online, contacts, counts
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .hello(let peerID):
            try container.encode(peerID, forKey: .peerID)
        case .message(let message), .state(let message):
            try container.encode(message, forKey: .message)
        case .presence(let contactID, let peerID, let online):
            try container.encode(contactID, forKey: .contactID)
            try container.encode(peerID, forKey: .peerID)
            try container.encode(online, forKey: .online)
        case .contacts(let contacts):
            try container.encode(contacts, forKey: .contacts)
        case .queue(let counts):
            try container.encode(counts, forKey: .counts)
        }
    }
}
