import ChatCrypto
import ChatStore
import Crypto
import Foundation
import LibP2P
import Mailbox
import Multiformats

/// Everything a home can do without the network: set up the profile and prekeys, make and
/// accept invites, queue messages and receipts, read conversations. Commands use it directly
/// whether or not a node runs; `ChatNode` uses the same instance for delivery.
///
/// At-rest protection today: the libp2p key is `<home>/identity.key` (0600) and the ratchet
/// sessions and X3DH private keys are in `<home>/chat.sqlite` (0600) inside a 0700 home; nothing
/// is encrypted with a passphrase yet.
public final class ChatAccount: Sendable {
    /// The home directory.
    public let home: URL
    /// Our libp2p identity (also signs invites and prekey bundles).
    public let identity: IdentityKeyPair
    /// The home's database.
    public let database: ChatDatabase
    /// The clock (injected in tests).
    public let now: @Sendable () -> Date
    /// How long outgoing messages are retried before `failed(expired)`.
    public let messageTTL: Duration
    let vault: PreKeyVault
    /// Attachments hook: the home's block store and received files (ChatNode/Attachments).
    let attachmentStorage: AttachmentStorage

    /// The default time-to-live of an outgoing message.
    public static let defaultMessageTTL: Duration = .seconds(7 * 24 * 3600)

    /// Opens the home's database for `identity`.
    public init(
        home: URL, identity: IdentityKeyPair, messageTTL: Duration = ChatAccount.defaultMessageTTL,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        self.home = home
        self.identity = identity
        self.database = try ChatDatabase(home: home)
        self.now = now
        self.messageTTL = messageTTL
        self.vault = PreKeyVault(database: database)
        self.attachmentStorage = AttachmentStorage(home: home)
    }

    /// Our PeerID.
    public var peerID: PeerID { identity.peerID }

    // MARK: Setup

    /// Stores our display name and listen port and generates our prekeys (idempotent: running it
    /// again renames us and keeps the keys).
    @discardableResult
    public func initialize(name: String, listenPort: UInt16) async throws -> LocalProfile {
        let profile = try await database.setLocalProfile(name: name, peerID: peerID, listenPort: listenPort, now: now())
        try await vault.ensureGenerated(now: now())
        return profile
    }

    /// Our profile; `.notInitialized` before `initialize`.
    public func profile() async throws -> LocalProfile {
        guard let profile = try await database.localProfile() else {
            throw ChatNodeError(.notInitialized, "this home has no profile yet: run `p2pchat init --name NAME` first")
        }
        guard profile.peerID == peerID else {
            throw ChatNodeError(.notInitialized, "this home's database belongs to \(profile.peerID), not to identity \(peerID)")
        }
        return profile
    }

    /// The addresses the stored listen port implies (loopback), for invites made while no node runs.
    public func storedAddresses() async throws -> [Multiaddr] {
        guard let port = try await profile().listenPort else { return [] }
        return [try Multiaddr("/ip4/127.0.0.1/tcp/\(port)")]
    }

    // MARK: Invites

    /// Makes a signed invite carrying `addresses`, `mailboxes` (encoded queue addresses, see
    /// `MailboxDirectory.makeInviteQueues()`) and a fresh prekey bundle (with newly minted
    /// one-time prekeys, so two invites never share one).
    public func makeInvite(addresses: [Multiaddr], mailboxes: [[UInt8]] = [], lifetime: Duration = Invite.defaultLifetime) async throws -> Invite {
        _ = try await profile()
        let created = now()
        let expires = created.addingTimeInterval(Double(lifetime.components.seconds))
        try await vault.ensureSignedPreKeysValid(until: expires, now: created)
        var keys = try await vault.load()
        keys.oneTimePreKeys = try await vault.mintOneTimePreKeys(now: created)
        let bundle: PreKeyBundle
        do {
            bundle = try PreKeyBundle.make(
                identity: identity, preKeys: keys, deviceID: Self.deviceID(of: peerID), sequence: created.unixMilliseconds,
                createdAt: created.unixMilliseconds, expiresAt: expires.unixMilliseconds)
        } catch {
            throw ChatNodeError(.invalidInvite, "cannot build our prekey bundle", underlying: error)
        }
        return try Invite(
            identity: identity, addresses: addresses, prekeyBundle: bundle.encoded, mailboxes: mailboxes,
            createdAtMilliseconds: created.unixMilliseconds, lifetime: lifetime)
    }

    /// Parses and verifies an invite's text at the current time.
    public func parseInvite(_ text: String) throws -> Invite {
        try Invite(text: text, nowMilliseconds: now().unixMilliseconds)
    }

    /// Adds the invite's owner as contact `name`, starts the end-to-end session (X3DH), and
    /// queues a first control message naming us, so the other side learns who we are.
    @discardableResult
    public func addContact(invite: Invite, name: String) async throws -> Contact {
        let profile = try await profile()
        guard invite.peerID != peerID else {
            throw ChatNodeError(.invalidInvite, "this is your own invite; send it to the person you want to chat with")
        }
        let nowMS = now().unixMilliseconds
        guard nowMS <= invite.expiresAtMilliseconds else {
            throw ChatNodeError(.expiredInvite, "invite expired; ask for a new one")
        }
        let bundle: PreKeyBundle
        do {
            bundle = try PreKeyBundle(parsing: invite.prekeyBundle)
            try bundle.verify(now: nowMS)
        } catch {
            throw ChatNodeError(.invalidInvite, "the invite's prekey bundle does not verify: ask for a new invite", underlying: error)
        }
        guard bundle.peerID == invite.peerID else {
            throw ChatNodeError(.invalidInvite, "the invite's prekey bundle belongs to another peer")
        }
        let keys = try await vault.load()
        let offered = Set(bundle.suites.map(\.suite))
        guard let suite = Ciphersuite.preferenceOrder.first(where: { offered.contains($0) && keys.identityDHKey(for: $0) != nil }),
              let ourKey = keys.identityDHKey(for: suite)
        else {
            throw ChatNodeError(.invalidInvite, "the invite offers no ciphersuite we support")
        }
        let session: Session
        do {
            session = try SessionInitiator.start(
                ourIdentity: identity, ourIdentityDHKey: ourKey, theirBundle: bundle, suite: suite, now: nowMS)
        } catch {
            throw ChatNodeError(.invalidInvite, "cannot start a session from this invite", underlying: error)
        }
        let contact: Contact
        if let existing = try await database.contact(peerID: invite.peerID) {
            guard try await database.loadSession(contactID: existing.id) == nil else {
                throw ChatNodeError(.malformedInput, "\(invite.peerID) is already your contact \(existing.displayName)")
            }
            contact = existing  // an earlier `contacts add` stopped before storing the session
        } else {
            do {
                contact = try await database.addContact(
                    name: name, peerID: invite.peerID, addresses: invite.addresses, preKeyBundle: Data(invite.prekeyBundle),
                    mailboxes: invite.mailboxes.map { Data($0) }, now: now())
            } catch let error as ChatStoreError where error.code == .duplicateContact || error.code == .invalidArgument {
                throw ChatNodeError(.malformedInput, error.message, underlying: error)
            }
        }
        try await database.saveSession(contactID: contact.id, state: Data(session.serialized()), expectedVersion: nil, now: now())
        // Naming the invite's queues tells its owner which of its invite queues are ours.
        let inviteQueues = invite.mailboxes.compactMap { try? QueueAddress(parsing: $0).queueID.bytes }
        let hello = ProfileContent(name: profile.displayName, addresses: try await storedAddresses(), inviteQueues: inviteQueues)
        _ = try await enqueue(hello.body, kind: .control, to: contact.id)
        return contact
    }

    // MARK: Contacts

    /// The contact called `name` (case-insensitively); `.unknownContact` with the known names otherwise.
    public func contact(named name: String) async throws -> Contact {
        if let contact = try await database.contact(named: name) { return contact }
        let names = try await database.contacts().map(\.displayName)
        let known = names.isEmpty ? "you have no contacts yet (add one with `p2pchat contacts add CODE --name NAME`)" : "known: \(names.joined(separator: ", "))"
        throw ChatNodeError(.unknownContact, "no contact named '\(name)'; \(known)")
    }

    // MARK: Sending

    /// Queues a text message; it is in the outbox (state `queued`) when this returns.
    public func send(_ text: String, to contact: Contact) async throws -> OutgoingMessage {
        guard !text.isEmpty else { throw ChatNodeError(.malformedInput, "empty message: nothing to send") }
        guard text.utf8.count <= 60 * 1024 else {
            throw ChatNodeError(.limitExceeded, "message of \(text.utf8.count) bytes is too long; the limit is 60 KiB")
        }
        return try await enqueue(text, kind: .text, to: contact.id)
    }

    /// Queues a message of any kind.
    func enqueue(_ body: String, kind: MessageKind, to contactID: ContactID) async throws -> OutgoingMessage {
        try await database.enqueueOutgoing(contactID: contactID, body: body, kind: kind, now: now(), ttl: messageTTL)
    }

    /// Queues a profile update (our current addresses) to every contact.
    public func announceAddresses(_ addresses: [Multiaddr]) async throws {
        let update = ProfileContent(name: nil, addresses: addresses)
        for contact in try await database.contacts() {
            _ = try await enqueue(update.body, kind: .control, to: contact.id)
        }
    }

    // MARK: Reading

    /// The visible (text) messages with `contact`, oldest first, at most the latest `limit`.
    public func conversation(with contact: Contact, limit: Int = 100) async throws -> [ChatMessage] {
        var collected: [ChatMessage] = []
        var before: MessageID?
        while collected.count < limit {
            let page = try await database.messages(contactID: contact.id, limit: ChatDatabase.maximumPageSize, before: before)
            collected.insert(contentsOf: page.filter { $0.kind.isVisible }, at: 0)
            guard page.count == ChatDatabase.maximumPageSize, let first = page.first else { break }
            before = first.id
        }
        return Array(collected.suffix(limit))
    }

    /// Marks everything from `contact` read and queues read receipts for the text messages that
    /// changed; returns how many did.
    @discardableResult
    public func markRead(_ contact: Contact) async throws -> Int {
        let changed = try await database.markRead(contactID: contact.id, now: now())
        var texts: [MessageID] = []
        for id in changed {
            if let message = try await database.message(id: id), message.kind.isVisible { texts.append(id) }
        }
        for start in stride(from: 0, to: texts.count, by: ReceiptContent.maximumIDs) {
            let chunk = Array(texts[start..<min(start + ReceiptContent.maximumIDs, texts.count)])
            _ = try await enqueue(ReceiptContent(kind: .read, ids: chunk, at: now()).body, kind: .receipt, to: contact.id)
        }
        return texts.count
    }

    /// How many text messages from `contact` are unread.
    public func unreadCount(_ contact: Contact) async throws -> Int {
        try await conversation(with: contact, limit: 10_000).count { $0.direction == .incoming && $0.state == .delivered }
    }

    /// Outgoing text messages still in the outbox, counted by state (receipts and control
    /// messages are not counted).
    public func outboxCounts() async throws -> [MessageState.Kind: Int] {
        let entries = try await database.dueOutbox(now: .distantFuture, limit: 1_000_000)
        var counts: [MessageState.Kind: Int] = [:]
        for entry in entries where entry.message.kind.isVisible {
            counts[entry.message.state.kind, default: 0] += 1
        }
        return counts
    }

    /// Full-text search over visible messages.
    public func search(_ words: String, limit: Int = 50) async throws -> [(hit: MessageHit, message: ChatMessage)] {
        var results: [(MessageHit, ChatMessage)] = []
        for hit in try await database.search(words: words, limit: ChatDatabase.maximumPageSize) {
            guard let message = try await database.message(id: hit.messageID), message.kind.isVisible else { continue }
            results.append((hit.forDisplay(of: message), message))  // attachments hook: no JSON snippets
            if results.count == limit { break }
        }
        return results
    }

    /// The device id published in our bundle (one device per identity today).
    static func deviceID(of peerID: PeerID) -> [UInt8] {
        Array(SHA256.hash(data: peerID.bytes).prefix(16))
    }
}
