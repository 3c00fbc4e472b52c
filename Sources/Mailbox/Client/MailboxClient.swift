import LibP2P
import Logging
import Multiformats

/// The client side of `/p2pchat/mailbox/1.0.0`: creates queues, deposits, and drains.
///
/// Privacy: the mailbox must never learn who deposits or reads, so talk to mailboxes from a
/// `Host` with a **throwaway identity**, not the user's own (`makeThrowawayHost()`: a fresh
/// `IdentityKeyPair` per host; use a new one per mailbox or per session as the threat model
/// asks). The caller runs the host (`host.run()`) and shuts it down. Every call opens one
/// stream; use `session(to:)` to send many requests on one.
public struct MailboxClient: Sendable {
    /// The host used to reach mailboxes.
    public let host: LibP2P.Host
    /// The clock that stamps requests.
    public let clock: MailboxClock

    /// A client using `host`, which should have a throwaway identity.
    public init(host: LibP2P.Host, clock: MailboxClock = .system) {
        self.host = host
        self.clock = clock
    }

    /// A new host with a fresh random identity that means nothing to anyone. Run it
    /// (`host.run()`) before use; it need not listen.
    public static func makeThrowawayHost(logger: Logger = Logger(label: "p2pchat.mailbox.client")) -> LibP2P.Host {
        LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: logger)
    }

    /// Opens a session (one stream) to the mailbox at `mailbox` (`…/p2p/<peer id>`).
    public func session(to mailbox: Multiaddr) async throws -> MailboxSession {
        _ = try QueueAddress.mailboxPeerID(of: mailbox)
        let connection: Connection
        do {
            connection = try await host.dial(mailbox)
        } catch {
            throw MailboxError(.connectionFailed, "cannot reach the mailbox at \(mailbox)", underlying: error)
        }
        return try await MailboxSession(connection: connection, clock: clock)
    }

    private func withSession<T: Sendable>(_ mailbox: Multiaddr, _ body: (MailboxSession) async throws -> T) async throws -> T {
        let session = try await session(to: mailbox)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Creates a queue on the mailbox at `mailbox`; the credentials hold both fresh keys.
    public func createQueue(at mailbox: Multiaddr) async throws -> QueueCredentials {
        try await withSession(mailbox) { try await $0.createQueue(mailbox: mailbox) }
    }

    /// Deposits `envelope` at `address`; returns its CID or throws the mailbox's refusal.
    public func deposit(_ envelope: [UInt8], to address: QueueAddress, ttlSeconds: UInt64? = nil) async throws -> DepositReceipt {
        try await withSession(address.mailbox) { try await $0.deposit(envelope, to: address, ttlSeconds: ttlSeconds) }
    }

    /// Lists entries after position `after`, FIFO.
    public func list(_ credentials: QueueCredentials, after: UInt64 = 0, limit: Int = MailboxProtocol.maxListLimit) async throws -> [MailboxResponse.Entry] {
        try await withSession(credentials.mailbox) { try await $0.list(credentials, after: after, limit: limit) }
    }

    /// Fetches envelopes by CID, each checked against its CID.
    public func fetch(_ cids: [CID], from credentials: QueueCredentials) async throws -> FetchedEnvelopes {
        try await withSession(credentials.mailbox) { try await $0.fetch(cids, from: credentials) }
    }

    /// Acknowledges (deletes) envelopes; returns how many were there.
    @discardableResult
    public func acknowledge(_ cids: [CID], in credentials: QueueCredentials) async throws -> Int {
        try await withSession(credentials.mailbox) { try await $0.acknowledge(cids, in: credentials) }
    }

    /// Deposits attachment blocks for the queue's recipient in one request; returns how many were new.
    @discardableResult
    public func depositBlocks(_ blocks: [MailboxResponse.Block], to address: QueueAddress, ttlSeconds: UInt64? = nil) async throws -> Int {
        try await withSession(address.mailbox) { try await $0.depositBlocks(blocks, to: address, ttlSeconds: ttlSeconds) }
    }

    /// Fetches attachment blocks by CID, each checked against its CID.
    public func fetchBlocks(_ cids: [CID], from credentials: QueueCredentials) async throws -> FetchedEnvelopes {
        try await withSession(credentials.mailbox) { try await $0.fetchBlocks(cids, from: credentials) }
    }

    /// Acknowledges (deletes) attachment blocks; returns how many were there.
    @discardableResult
    public func acknowledgeBlocks(_ cids: [CID], in credentials: QueueCredentials) async throws -> Int {
        try await withSession(credentials.mailbox) { try await $0.acknowledgeBlocks(cids, in: credentials) }
    }

    /// The queue's counters and quotas.
    public func status(of credentials: QueueCredentials) async throws -> QueueStatus {
        try await withSession(credentials.mailbox) { try await $0.status(of: credentials) }
    }

    /// Deletes the queue.
    public func deleteQueue(_ credentials: QueueCredentials) async throws {
        try await withSession(credentials.mailbox) { try await $0.deleteQueue(credentials) }
    }

    /// Registers (or removes, with `nil`) the queue's push endpoint.
    public func setPushEndpoint(_ url: String?, for credentials: QueueCredentials) async throws {
        try await withSession(credentials.mailbox) { try await $0.setPushEndpoint(url, for: credentials) }
    }

    /// Fetches everything in the queue, FIFO, acknowledging it unless told not to.
    public func drain(_ credentials: QueueCredentials, acknowledge: Bool = true) async throws -> FetchedEnvelopes {
        try await withSession(credentials.mailbox) { try await $0.drain(credentials, acknowledge: acknowledge) }
    }

    /// Subscribes to live deposit notifications; iterate the result, `close()` it when done.
    /// When it ends (mailbox restart, network), drain and subscribe again.
    public func subscribe(to credentials: QueueCredentials) async throws -> MailboxSubscription {
        let session = try await session(to: credentials.mailbox)
        do {
            return try await session.subscribe(to: credentials)
        } catch {
            await session.close()
            throw error
        }
    }
}
