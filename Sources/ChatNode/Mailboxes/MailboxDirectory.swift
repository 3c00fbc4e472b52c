import ChatStore
import Foundation
import LibP2P
import Logging
import Mailbox
import Multiformats

/// The mailboxes this user receives at and our queues there (ARCHITECTURE.md Mailboxes):
/// `p2pchat mailbox use|remove|push|list`, invite queues, and provisioning.
///
/// Privacy: one fresh queue per contact per mailbox, so a mailbox cannot tell that two queues
/// belong to the same person from their ids or keys; queues are created over `client`, whose
/// host must have a throwaway identity (`withThrowawayClient`), so no mailbox learns our
/// PeerID. Each contact learns only its own queue addresses: in our invite, or inside the
/// encrypted session (`MailboxesContent`).
public struct MailboxDirectory: Sendable {
    /// The home.
    public let account: ChatAccount
    /// The client (on a throwaway host).
    public let client: MailboxClient
    let logger: Logger

    /// A directory for `account` talking to mailboxes through `client`.
    public init(account: ChatAccount, client: MailboxClient, logger: Logger = Logger(label: "p2pchat.mailboxes")) {
        self.account = account
        self.client = client
        self.logger = logger
    }

    /// The mailbox clock that follows the account's clock (tests move both at once).
    public static func clock(for account: ChatAccount) -> MailboxClock {
        MailboxClock { UInt64(max(0, account.now().timeIntervalSince1970 * 1000)) }
    }

    /// Runs `body` with a client on a fresh throwaway host, shut down afterwards.
    public static func withThrowawayClient<T: Sendable>(
        account: ChatAccount, logger: Logger, _ body: @Sendable (MailboxClient) async throws -> T
    ) async throws -> T {
        let host = MailboxClient.makeThrowawayHost(logger: logger)
        let client = MailboxClient(host: host, clock: clock(for: account))
        return try await host.withRunning { _ in try await body(client) }
    }

    /// Checks that `address` names a mailbox (`…/p2p/<peer id>`) and returns its canonical text.
    public static func canonicalAddress(_ text: String) throws -> String {
        let address: Multiaddr
        do {
            address = try Multiaddr(text.trimmingWhitespace())
        } catch {
            throw ChatNodeError(.malformedInput, "'\(text)' is not a multiaddr (like /ip4/1.2.3.4/tcp/4001/p2p/12D3KooW…)", underlying: error)
        }
        guard address.peerIDMultihash != nil else {
            throw ChatNodeError(.malformedInput, "mailbox address must end in /p2p/<peer id>: \(text)")
        }
        return address.description
    }

    // MARK: Commands

    /// Starts receiving at `mailbox`: records it and creates a queue there for every contact
    /// (announced to them inside the session). Returns how many queues were created.
    @discardableResult
    public func use(_ mailbox: String, pushEndpoint: String? = nil) async throws -> Int {
        let address = try Self.canonicalAddress(mailbox)
        _ = try await account.profile()
        try await account.database.addMailbox(address: address, now: account.now())
        if let pushEndpoint {
            try await account.database.setMailboxPushEndpoint(address: address, endpoint: pushEndpoint)
        }
        // Fail early and clearly when the mailbox cannot be reached.
        do {
            let probe = try await client.createQueue(at: Multiaddr(address))
            try await client.deleteQueue(probe)
        } catch let error as MailboxError {
            throw ChatNodeError(.unreachable, "mailbox \(address) refused or is unreachable (\(error.code): \(error.message)); it stays recorded and will be retried", underlying: error)
        }
        return try await provision()
    }

    /// Stops using the mailbox at `address`: deletes our queues there (best effort), forgets
    /// them, and tells the affected contacts their remaining queues. Returns how many queues
    /// were deleted at the mailbox.
    @discardableResult
    public func remove(_ address: String) async throws -> Int {
        let canonical = try Self.canonicalAddress(address)
        let queues: [MailboxQueueRecord]
        do {
            queues = try await account.database.removeMailbox(address: canonical)
        } catch let error as ChatStoreError where error.code == .notFound {
            throw ChatNodeError(.malformedInput, "not using mailbox \(canonical); see `p2pchat mailbox list`", underlying: error)
        }
        var deleted = 0
        for queue in queues {
            guard let credentials = try? QueueCredentials(parsing: Array(queue.credentials)) else { continue }
            do {
                try await client.deleteQueue(credentials)
                deleted += 1
            } catch {
                logger.notice("cannot delete a queue at the mailbox; it expires there", metadata: ["reason": "\(error)"])
            }
        }
        for contactID in Set(queues.compactMap(\.contactID)) {
            try await announce(to: contactID)
        }
        return deleted
    }

    /// Registers (or removes, with `nil`) a UnifiedPush-style endpoint for all our queues;
    /// returns how many queues accepted it. Later queues get it too.
    @discardableResult
    public func setPushEndpoint(_ url: String?) async throws -> Int {
        let mailboxes = try await account.database.mailboxes()
        guard !mailboxes.isEmpty else {
            throw ChatNodeError(.malformedInput, "no mailbox in use: run `p2pchat mailbox use MULTIADDR` first")
        }
        for mailbox in mailboxes {
            try await account.database.setMailboxPushEndpoint(address: mailbox.address, endpoint: url)
        }
        var accepted = 0
        var lastError: (any Error)?
        for queue in try await account.database.mailboxQueues() {
            guard let credentials = try? QueueCredentials(parsing: Array(queue.credentials)) else { continue }
            do {
                try await client.setPushEndpoint(url, for: credentials)
                accepted += 1
            } catch {
                lastError = error
                logger.notice("push endpoint refused", metadata: ["reason": "\(error)"])
            }
        }
        if accepted == 0, let lastError {
            throw ChatNodeError(.rejected, "no mailbox accepted the push endpoint: \(lastError)", underlying: lastError)
        }
        return accepted
    }

    /// Fresh unclaimed queues, one per mailbox we use, for a new invite (encoded addresses).
    /// Mailboxes that cannot be reached are skipped.
    public func makeInviteQueues() async throws -> [[UInt8]] {
        var addresses: [[UInt8]] = []
        for mailbox in try await account.database.mailboxes() {
            do {
                let credentials = try await client.createQueue(at: Multiaddr(mailbox.address))
                try await store(credentials, contactID: nil, announced: true, pushEndpoint: mailbox.pushEndpoint)
                addresses.append(credentials.address.encode())
            } catch {
                logger.warning("mailbox unreachable; the invite goes without it", metadata: ["mailbox": "\(mailbox.address)", "reason": "\(error)"])
            }
        }
        return addresses
    }

    /// Makes sure every contact has one queue on each of our mailboxes and knows all of its
    /// queues (a `mailboxes` control message when one was added or not yet announced).
    /// Mailboxes that cannot be reached are retried next time. Returns how many queues were created.
    @discardableResult
    public func provision() async throws -> Int {
        let mailboxes = try await account.database.mailboxes()
        let queues = try await account.database.mailboxQueues()
        var unreachable: Set<String> = []
        var created = 0
        for contact in try await account.database.contacts() {
            let theirs = queues.filter { $0.contactID == contact.id }
            for mailbox in mailboxes where !unreachable.contains(mailbox.address) && !theirs.contains(where: { $0.mailbox == mailbox.address }) {
                do {
                    let credentials = try await client.createQueue(at: Multiaddr(mailbox.address))
                    try await store(credentials, contactID: contact.id, announced: false, pushEndpoint: mailbox.pushEndpoint)
                    created += 1
                } catch let error as ChatStoreError {
                    throw error
                } catch {
                    unreachable.insert(mailbox.address)
                    logger.notice("cannot create a queue; will retry", metadata: ["mailbox": "\(mailbox.address)", "reason": "\(error)"])
                }
            }
            let current = try await account.database.mailboxQueues(contactID: contact.id)
            if current.contains(where: { !$0.announced }) {
                try await announce(to: contact.id)
            }
        }
        return created
    }

    /// Per mailbox: our queues there and how many envelopes wait in them (`nil` when the
    /// mailbox cannot be reached).
    public func summaries() async throws -> [MailboxSummary] {
        let queues = try await account.database.mailboxQueues()
        var result: [MailboxSummary] = []
        for mailbox in try await account.database.mailboxes() {
            let here = queues.filter { $0.mailbox == mailbox.address }
            var waiting: Int? = 0
            for queue in here {
                guard let credentials = try? QueueCredentials(parsing: Array(queue.credentials)) else { continue }
                do {
                    waiting = (waiting ?? 0) + Int(try await client.status(of: credentials).envelopeCount)
                } catch {
                    waiting = nil
                    break
                }
            }
            result.append(MailboxSummary(
                address: mailbox.address, queues: here.count, waitingEnvelopes: waiting, pushEndpoint: mailbox.pushEndpoint))
        }
        return result
    }

    // MARK: Internals

    private func store(_ credentials: QueueCredentials, contactID: ContactID?, announced: Bool, pushEndpoint: String?) async throws {
        try await account.database.addMailboxQueue(
            mailbox: credentials.mailbox.description, queueID: Data(credentials.queueID.bytes), contactID: contactID,
            credentials: Data(credentials.encode()), announced: announced, now: account.now())
        if let pushEndpoint {
            do {
                try await client.setPushEndpoint(pushEndpoint, for: credentials)
            } catch {
                logger.notice("push endpoint refused for a new queue", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// Queues a `mailboxes` control message with all of the contact's queue addresses.
    private func announce(to contactID: ContactID) async throws {
        let queues = try await account.database.mailboxQueues(contactID: contactID)
        let addresses = queues.compactMap { try? QueueCredentials(parsing: Array($0.credentials)).address.encode() }
        let content = MailboxesContent(queues: Array(addresses.prefix(MailboxesContent.maximumQueues)))
        _ = try await account.enqueue(content.body, kind: .control, to: contactID)
        try await account.database.markMailboxQueuesAnnounced(contactID: contactID)
    }
}

/// One mailbox as `p2pchat mailbox list` shows it.
public struct MailboxSummary: Sendable, Hashable, Codable {
    /// The mailbox's multiaddr.
    public var address: String
    /// Our queues there.
    public var queues: Int
    /// Envelopes waiting in them, `nil` when the mailbox could not be asked.
    public var waitingEnvelopes: Int?
    /// The registered push endpoint.
    public var pushEndpoint: String?
}
