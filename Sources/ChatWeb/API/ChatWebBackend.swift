import ChatNode
import ChatStore
import Foundation
import IPFS
import LibP2P
import Multiformats
import Synchronization

/// What the web API does, over a running `ChatNode` and its `ChatAccount`: every query and
/// action of the UI, returning the API's JSON shapes. Route handlers only decode parameters
/// and call one method here.
///
/// After each action it calls `changed`, so the event monitor looks for changes at once instead
/// of at its next tick.
final class ChatWebBackend: Sendable {
    /// The largest page of messages a client may ask for.
    static let maximumPageSize = 200
    /// How many recent messages per contact the event monitor compares.
    static let monitoredWindow = 50
    /// The reason stored when the user cancels a queued message.
    static let cancelled = FailureReason(rawValue: "cancelled")

    let node: ChatNode
    let home: URL
    /// The largest upload accepted (`maximumUploadSize` unless a test lowers it).
    let uploadLimit: Int64
    private let blockstore: Mutex<Blockstore?>
    private let changedHandler: Mutex<@Sendable () -> Void>

    var account: ChatAccount { node.account }
    var database: ChatDatabase { node.account.database }

    init(node: ChatNode, home: URL, blockstore: Blockstore? = nil, uploadLimit: Int64 = ChatWebBackend.maximumUploadSize) {
        self.node = node
        self.home = home
        self.uploadLimit = uploadLimit
        self.blockstore = Mutex(blockstore)
        self.changedHandler = Mutex({})
    }

    /// Sets what to call after an action changed something.
    func onChange(_ handler: @escaping @Sendable () -> Void) {
        changedHandler.withLock { $0 = handler }
    }

    func changed() {
        let handler = changedHandler.withLock { $0 }
        handler()
    }

    // MARK: Status

    func status() async throws -> StatusJSON {
        let profile = try await account.profile()
        let contacts = try await database.contacts()
        return StatusJSON(
            name: profile.displayName, peerID: node.peerID.description,
            addresses: node.host.listenAddresses.map(\.description),
            onlinePeers: node.onlinePeers.map(\.description).sorted(), contacts: contacts.count,
            outbox: try await queueCounts(),
            features: ["attachments": true, "mailboxes": true, "search": true, "replies": true])
    }

    // MARK: Contacts and invites

    func contacts() async throws -> [ContactJSON] {
        var result: [ContactJSON] = []
        for contact in try await database.contacts() {
            result.append(try await describe(contact))
        }
        return result
    }

    func describe(_ contact: Contact) async throws -> ContactJSON {
        var last: MessageJSON?
        if let message = try await visibleMessages(contactID: contact.id, before: nil, limit: 1).messages.last {
            last = try await json(message, contactID: contact.id)
        }
        return ContactJSON(
            id: contact.id.rawValue, name: contact.displayName, peerID: contact.peerID.description,
            online: node.presence.isOnline(contact.peerID), unread: try await unreadCount(contact),
            addresses: contact.addresses.map(\.description), createdAt: contact.createdAt.milliseconds,
            lastSeenAt: contact.lastSeenAt?.milliseconds, lastMessage: last)
    }

    /// Visible unread messages; the store's count (all kinds) is a cheap upper bound.
    private func unreadCount(_ contact: Contact) async throws -> Int {
        guard try await database.unreadCount(contactID: contact.id) > 0 else { return 0 }
        return try await account.unreadCount(contact)
    }

    func addContact(_ request: AddContactRequest) async throws -> ContactJSON {
        let text = request.invite.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ChatWebError(.badRequest, "paste the invite code you were given") }
        let invite = try account.parseInvite(text)
        let contact = try await account.addContact(invite: invite, name: request.name)
        node.kick()
        changed()
        return try await describe(contact)
    }

    /// A fresh invite (each one carries newly minted one-time prekeys and mailbox queues, so it is a POST).
    func makeInvite() async throws -> InviteJSON {
        var addresses = node.host.listenAddresses.map { $0.removingPeerID() }
        if addresses.isEmpty { addresses = try await account.storedAddresses() }
        // A fresh queue on each of our mailboxes, so the contact can deposit while we are offline.
        let mailboxes = try await node.makeInviteMailboxQueues()
        let invite = try await account.makeInvite(addresses: addresses, mailboxes: mailboxes)
        return InviteJSON(
            text: invite.text, peerID: invite.peerID.description, addresses: invite.addresses.map(\.description),
            createdAt: Int64(invite.createdAtMilliseconds), expiresAt: Int64(invite.expiresAtMilliseconds))
    }

    func contact(id: Int64) async throws -> Contact {
        guard let contact = try await database.contact(id: ContactID(rawValue: id)) else {
            throw ChatWebError(.notFound, "no contact \(id)")
        }
        return contact
    }

    // MARK: Messages

    /// The `limit` visible messages before `before` (the latest when `nil`), oldest first.
    func messages(contactID: Int64, before: String?, limit: Int) async throws -> MessagePageJSON {
        guard (1...Self.maximumPageSize).contains(limit) else {
            throw ChatWebError(.badRequest, "limit must be 1–\(Self.maximumPageSize)")
        }
        let contact = try await contact(id: contactID)
        let cursor = try before.map { try parseMessageID($0) }
        let page = try await visibleMessages(contactID: contact.id, before: cursor, limit: limit)
        var messages: [MessageJSON] = []
        for message in page.messages { messages.append(try await json(message, contactID: contact.id)) }
        return MessagePageJSON(messages: messages, hasMore: page.hasMore)
    }

    /// Pages through the store (which also holds receipts and control messages) until `limit`
    /// visible messages are found or the conversation's start is reached.
    func visibleMessages(contactID: ContactID, before: MessageID?, limit: Int) async throws -> (messages: [ChatMessage], hasMore: Bool) {
        let chunk = min(ChatDatabase.maximumPageSize, max(limit * 2, 100))
        var collected: [ChatMessage] = []
        var cursor = before
        while collected.count <= limit {
            let page = try await database.messages(contactID: contactID, limit: chunk, before: cursor)
            collected.insert(contentsOf: page.filter { $0.kind.isVisible }, at: 0)
            guard page.count == chunk, let first = page.first else { break }
            cursor = first.id
        }
        return (Array(collected.suffix(limit)), collected.count > limit)
    }

    func send(contactID: Int64, _ request: SendRequest) async throws -> MessageJSON {
        let contact = try await contact(id: contactID)
        let text = request.text
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ChatWebError(.badRequest, "empty message: nothing to send")
        }
        var replyTo: MessageID?
        if let reply = request.replyTo, !reply.isEmpty {
            let id = try parseMessageID(reply)
            guard let original = try await database.message(id: id), original.conversationID == contact.conversationID else {
                throw ChatWebError(.badRequest, "the message you reply to is not in this conversation")
            }
            replyTo = id
        }
        let outgoing: OutgoingMessage
        if replyTo == nil {
            outgoing = try await account.send(text, to: contact)
        } else {
            guard text.utf8.count <= 60 * 1024 else {
                throw ChatWebError(.tooLarge, "message of \(text.utf8.count) bytes is too long; the limit is 60 KiB")
            }
            outgoing = try await database.enqueueOutgoing(
                contactID: contact.id, body: text, kind: .text, replyTo: replyTo, now: account.now(), ttl: account.messageTTL)
        }
        node.kick()
        changed()
        return try await json(outgoing.message, contactID: contact.id)
    }

    func markRead(contactID: Int64) async throws -> ReadJSON {
        let contact = try await contact(id: contactID)
        let marked = try await account.markRead(contact)
        if marked > 0 {
            node.kick()
            changed()
        }
        return ReadJSON(marked: marked)
    }

    /// Retries an undelivered message: a queued or stored one is attempted now; a failed one is
    /// sent again as a new message (the failed one stays in the history, marked failed).
    func retry(messageID text: String) async throws -> MessageJSON {
        let (message, contact) = try await outgoingMessage(text)
        switch message.state {
        case .queued, .stored:
            node.kick()
            changed()
            return try await json(message, contactID: contact.id)
        case .failed:
            let again = try await database.enqueueOutgoing(
                contactID: contact.id, body: message.body, kind: message.kind, replyTo: message.replyTo,
                now: account.now(), ttl: account.messageTTL)
            node.kick()
            changed()
            return try await json(again.message, contactID: contact.id)
        case .sent, .delivered, .read:
            throw ChatWebError(.conflict, "this message already reached \(contact.displayName); nothing to retry")
        }
    }

    /// Cancels a message that has not reached the recipient (queued, or only in mailboxes).
    func cancel(messageID text: String) async throws -> MessageJSON {
        let (message, contact) = try await outgoingMessage(text)
        switch message.state {
        case .queued, .stored:
            try await database.markState(messageID: message.id, state: .failed(Self.cancelled), error: "cancelled by you", now: account.now())
            changed()
            guard let updated = try await database.message(id: message.id) else { throw ChatWebError(.notFound, "no message \(text)") }
            return try await json(updated, contactID: contact.id)
        default:
            throw ChatWebError(.conflict, "only a message that has not reached \(contact.displayName) can be cancelled (it is \(message.state))")
        }
    }

    /// A message as the API shows it, with its attachment's state for attachment messages.
    func json(_ message: ChatMessage, contactID: ContactID) async throws -> MessageJSON {
        MessageJSON(message, contactID: contactID, attachment: try await account.attachment(of: message))
    }

    private func outgoingMessage(_ text: String) async throws -> (ChatMessage, Contact) {
        let id = try parseMessageID(text)
        guard let message = try await database.message(id: id), message.direction == .outgoing, message.kind.isVisible else {
            throw ChatWebError(.notFound, "no message of yours with id \(text)")
        }
        guard let contact = try await database.contacts().first(where: { $0.conversationID == message.conversationID }) else {
            throw ChatWebError(.notFound, "message \(text) belongs to no contact")
        }
        return (message, contact)
    }

    func parseMessageID(_ text: String) throws -> MessageID {
        do {
            return try MessageID(hex: text)
        } catch {
            throw ChatWebError(.badRequest, "'\(text)' is not a message id (32 hex digits)")
        }
    }

    // MARK: Search

    func search(_ words: String, contactID: Int64?, limit: Int) async throws -> SearchJSON {
        guard (1...Self.maximumPageSize).contains(limit) else {
            throw ChatWebError(.badRequest, "limit must be 1–\(Self.maximumPageSize)")
        }
        let contacts = Dictionary(uniqueKeysWithValues: try await database.contacts().map { ($0.id, $0) })
        let hits = try await database.search(words: words, contactID: contactID.map(ContactID.init(rawValue:)), limit: ChatDatabase.maximumPageSize)
        var results: [SearchHitJSON] = []
        for hit in hits {
            guard let message = try await database.message(id: hit.messageID), message.kind.isVisible,
                  let contactID = hit.contactID else { continue }
            results.append(SearchHitJSON(
                contactID: contactID.rawValue, contactName: contacts[contactID]?.displayName, snippet: hit.snippet,
                score: hit.score, message: try await json(message, contactID: contactID)))
            if results.count == limit { break }
        }
        return SearchJSON(query: words, results: results)
    }

    // MARK: Offline queue

    func queueCounts() async throws -> QueueCountsJSON {
        var counts: QueueCountsJSON = [:]
        for (kind, count) in try await account.outboxCounts() { counts[kind.rawValue] = count }
        return counts
    }

    func queue() async throws -> QueueJSON {
        let contacts = Dictionary(uniqueKeysWithValues: try await database.contacts().map { ($0.id, $0) })
        let entries = try await database.dueOutbox(now: .distantFuture, limit: 100_000)
        var items: [QueueItemJSON] = []
        for entry in entries.filter({ $0.message.kind.isVisible }).sorted(by: { ($0.contactID, $0.message.seq) < ($1.contactID, $1.message.seq) }) {
            items.append(QueueItemJSON(
                contactID: entry.contactID.rawValue, contactName: contacts[entry.contactID]?.displayName ?? "?",
                message: try await json(entry.message, contactID: entry.contactID)))
        }
        return QueueJSON(counts: try await queueCounts(), items: items)
    }

    // MARK: Storage

    /// The home's blockstore, opened the first time it exists (never created here).
    func openBlockstore() -> Blockstore? {
        blockstore.withLock { store in
            if let store { return store }
            let file = home.appendingPathComponent("blocks").appendingPathComponent(Blockstore.databaseFileName)
            guard FileManager.default.fileExists(atPath: file.path) else { return nil }
            store = try? Blockstore(home: home)
            return store
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else { return 0 }
        return size.int64Value
    }
}
