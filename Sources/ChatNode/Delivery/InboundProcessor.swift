import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Logging

/// The receiving half of direct delivery: turns one envelope from an authenticated peer into a
/// stored message and an acknowledgement (ARCHITECTURE.md Delivery §2, §4).
///
/// The sender is the Noise-authenticated remote peer, never a claim inside the envelope. A known
/// contact's envelopes open with its session (or start a new one from a prekey message); an
/// unknown peer may only start a session with a valid prekey message made from our bundle,
/// which also creates the contact. Everything is stored (message, advanced session, consumed
/// one-time prekey, in one transaction) *before* the acknowledgement; a rejected envelope
/// changes nothing. Transient failures (database busy) throw: the stream closes without an
/// acknowledgement and the sender retries.
struct InboundProcessor: Sendable {
    let account: ChatAccount
    let locks: KeyedLock<PeerID>
    let logger: Logger
    /// Called after a message that needs a receipt was stored, or one that started our first
    /// session with the peer (messages to it may be waiting for that session, see
    /// `DeliveryEngine.AwaitingSession`), so the engine sends them soon.
    let onQueued: @Sendable (PeerID) -> Void
    /// Called after a new text message was stored (for `up --on-message`); must not block.
    var onText: @Sendable (Contact, MessageID) -> Void = { _, _ in }
    /// Attachments hook: called after a new attachment message was stored, so the fetcher starts.
    var onAttachment: @Sendable () -> Void = {}

    /// The reason prefix of a rejection that means "your session lost the tie-break; take the
    /// one I started": the sender keeps the message and seals it again later.
    static let supersededReason = "session superseded"

    typealias Ack = DeliveryProtocol.Ack

    /// Handles one envelope from `peer`.
    func receive(_ bytes: [UInt8], from peer: PeerID) async throws -> Ack {
        let envelope: Envelope
        do {
            envelope = try Envelope(parsing: bytes)
        } catch {
            return reject("malformed envelope: \(Self.describe(error))", peer: peer)
        }
        var lastConflict: (any Error)?
        for _ in 0..<5 {
            do {
                return try await locks.withLock(peer) {
                    try await receiveLocked(envelope, from: peer)
                }
            } catch let error as ChatStoreError where error.code == .sessionConflict {
                lastConflict = error  // another process advanced the session: reload and retry
            }
        }
        throw ChatNodeError(.control, "session with \(peer) keeps changing", underlying: lastConflict)
    }

    private struct Opened {
        var content: PlainContent
        var session: Session
        var expectedVersion: Int64?
        var oneTimePreKey: UInt32?
        /// This message starts a new session in place of the stored one.
        var replacesSession = false
    }

    private func receiveLocked(_ envelope: Envelope, from peer: PeerID) async throws -> Ack {
        let database = account.database
        let nowMS = account.now().unixMilliseconds
        var contact = try await database.contact(peerID: peer)
        let stored = try await contact.asyncMap { try await database.loadSession(contactID: $0.id) } ?? nil
        let opened: Opened
        switch envelope.kind {
        case .ratchetMessage:
            guard contact != nil, let stored else {
                return reject("unknown peer: \(peer) is not a contact and did not start a session", peer: peer)
            }
            var session = try Self.restore(stored)
            do {
                let content = try session.open(envelope: envelope, now: nowMS)
                opened = Opened(content: content, session: session, expectedVersion: stored.version)
            } catch let error as ChatCryptoError {
                return verdict(for: error, peer: peer)
            }
        case .preKeyMessage:
            let keys = try await account.vault.load()
            let message: PreKeyMessage
            do {
                message = try SessionResponder.unseal(envelope: envelope, ourPreKeys: keys)
            } catch let error as ChatCryptoError {
                return verdict(for: error, peer: peer)
            }
            guard message.senderPeerID == peer else {
                return reject("wrong sender: prekey message from \(message.senderPeerID) arrived from \(peer)", peer: peer)
            }
            do {
                if let stored, var session = try? Session(serialized: Array(stored.state)),
                   session.role == .responder, session.baseKey == message.baseKey {
                    let content = try session.open(preKeyMessage: message, now: nowMS)
                    opened = Opened(content: content, session: session, expectedVersion: stored.version)
                } else {
                    if let stored, let current = try? Session(serialized: Array(stored.state)),
                       current.role == .initiator, current.isAwaitingFirstReply,
                       account.peerID.bytes.lexicographicallyPrecedes(peer.bytes) {
                        // Both sides started a session at once: the one started by the smaller
                        // PeerID wins. Ours did; the peer adopts it when our first message arrives.
                        logger.info("session collision: keeping ours", metadata: ["peer": "\(peer)"])
                        return Ack(status: .rejected, reason: "\(Self.supersededReason): \(account.peerID) keeps the session it started")
                    }
                    let accepted = try SessionResponder.accept(preKeyMessage: message, ourIdentity: account.identity, ourPreKeys: keys, now: nowMS)
                    opened = Opened(
                        content: accepted.content, session: accepted.session, expectedVersion: stored?.version,
                        oneTimePreKey: accepted.usedOneTimePreKeyID, replacesSession: stored != nil)
                }
            } catch let error as ChatCryptoError {
                return verdict(for: error, peer: peer)
            }
        }
        let content = opened.content
        guard let messageID = try? MessageID(bytes: content.messageID),
              content.sequence > 0, content.sequence <= UInt64(Int64.max)
        else {
            return reject("malformed content: bad message id or sequence number", peer: peer)
        }
        let kind = MessageKind(content.kind)
        let body = String(decoding: content.body, as: UTF8.self)
        if contact == nil {
            let profile = kind == .control ? try? ProfileContent(parsing: body) : nil
            contact = try await createContact(peer: peer, profile: profile)
        }
        guard let contact else { return reject("unknown peer \(peer)", peer: peer) }

        if try await database.message(id: messageID) != nil {
            return Ack(status: .duplicate)
        }
        var queuedReceipt = false
        switch kind {
        case .text, .attachment:
            // Queued before storing, inside the contact lock: the engine seals receipts under the
            // same lock and drops ids that are not stored, so a crash in between loses nothing.
            let receipt = ReceiptContent(kind: .delivered, ids: [messageID], at: account.now())
            _ = try await account.enqueue(receipt.body, kind: .receipt, to: contact.id)
            queuedReceipt = true
        case .receipt:
            if let receipt = try? ReceiptContent(parsing: body) {
                for id in receipt.messageIDs {
                    do {
                        try await database.recordReceipt(messageID: id, kind: receipt.receiptKind, at: receipt.date, now: account.now())
                    } catch let error as ChatStoreError where error.code == .notFound || error.code == .invalidArgument {
                        logger.debug("receipt for an unknown message", metadata: ["peer": "\(peer)", "id": "\(id)"])
                    }
                }
            }
        case .control:
            if let profile = try? ProfileContent(parsing: body) {
                if !profile.multiaddrs.isEmpty {
                    try await database.updateContactAddresses(contactID: contact.id, addresses: profile.multiaddrs)
                }
                for hex in profile.inviteQueues ?? [] {
                    guard let queueID = Data(hexadecimal: hex) else { continue }
                    try await database.claimMailboxQueue(queueID: queueID, contactID: contact.id)
                }
            } else if let mailboxes = try? MailboxesContent(parsing: body) {
                try await database.updateContactMailboxes(contactID: contact.id, mailboxes: mailboxes.queues)
            } else if let grant = try? StorachaGrantContent(parsing: body) {  // Storacha hook: a contact's space
                try await StorachaDirectory(account: account, logger: logger).receive(grant, from: contact)
            }
        default:
            break
        }
        if opened.replacesSession {
            // Envelopes sealed under the old session can no longer be opened: seal them again.
            let reset = try await database.resetUndeliveredEnvelopes(contactID: contact.id, now: account.now())
            if reset > 0 {
                logger.info("session replaced; resealing", metadata: ["peer": "\(peer)", "messages": "\(reset)"])
                queuedReceipt = true  // wakes the engine to seal and send them
            }
        }
        let result: StoreResult
        do {
            result = try await database.storeIncoming(
                contactID: contact.id, messageID: messageID, seq: Int64(content.sequence), body: body, kind: kind,
                sentAt: Date(unixMilliseconds: content.sentAt), replyTo: content.replyTo.flatMap { try? MessageID(bytes: $0) },
                sessionState: Data(opened.session.serialized()), expectedSessionVersion: opened.expectedVersion,
                consumingOneTimePreKey: opened.oneTimePreKey, now: account.now())
        } catch let error as ChatStoreError
            where [.sequenceConflict, .messageIDConflict, .preKeyConsumed, .invalidArgument].contains(error.code) {
            return reject("\(error.code): \(error.message)", peer: peer)
        }
        if queuedReceipt || stored == nil { onQueued(peer) }
        if kind == .text, result.outcome == .stored { onText(contact, messageID) }
        if kind == .attachment, result.outcome == .stored { onAttachment() }  // attachments hook
        return Ack(status: result.outcome == .stored ? .stored : .duplicate)
    }

    /// Creates a contact for a peer that started a session from our bundle, named after its
    /// profile (deduplicated: "alice", "alice-2", …).
    private func createContact(peer: PeerID, profile: ProfileContent?) async throws -> Contact {
        let suffix = String(peer.description.suffix(6))
        let base = profile?.name.flatMap { $0.trimmingWhitespace().isEmpty ? nil : String($0.trimmingWhitespace().prefix(56)) } ?? "peer-\(suffix)"
        for index in 1...50 {
            let name = index == 1 ? base : "\(base)-\(index)"
            do {
                let contact = try await account.database.addContact(
                    name: name, peerID: peer, addresses: profile?.multiaddrs ?? [], now: account.now())
                logger.info("new contact from a session request", metadata: ["name": "\(name)", "peer": "\(peer)"])
                return contact
            } catch let error as ChatStoreError where error.code == .duplicateContact {
                if let existing = try await account.database.contact(peerID: peer) { return existing }
            } catch let error as ChatStoreError where error.code == .invalidArgument {
                return try await createContact(peer: peer, profile: nil)
            }
        }
        throw ChatNodeError(.limitExceeded, "no free contact name for \(base)")
    }

    private func verdict(for error: ChatCryptoError, peer: PeerID) -> Ack {
        if error.code == .replayedMessage {
            // The message key is spent, so this envelope was already opened and stored (keys
            // advance only together with storing): a retry whose acknowledgement was lost.
            return Ack(status: .duplicate, reason: "already received")
        }
        return reject("\(error.code): \(error.message)", peer: peer)
    }

    private func reject(_ reason: String, peer: PeerID) -> Ack {
        logger.notice("rejected envelope", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        return Ack(status: .rejected, reason: reason)
    }

    static func restore(_ stored: StoredSession) throws -> Session {
        do {
            return try Session(serialized: Array(stored.state))
        } catch {
            throw ChatNodeError(.malformedInput, "stored session does not decode", underlying: error)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ChatCryptoError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
