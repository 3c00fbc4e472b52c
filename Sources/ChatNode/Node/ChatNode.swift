import ChatCrypto
import ChatStore
import Foundation
import LibP2P
import Logging
import Mailbox
import Multiformats
import ServiceLifecycle
import Synchronization

/// The chat node for one home, as a `Service`: a libp2p host with our identity, direct delivery
/// on `/p2pchat/msg/1.0.0` (inbound and the outbox engine), presence from connection events,
/// and the home's control socket for commands (ARCHITECTURE.md Delivery, Surfaces).
///
/// `run()` owns all work in one task group and returns on graceful shutdown or cancellation.
public final class ChatNode: Service, Sendable {
    /// The home's offline operations and database.
    public let account: ChatAccount
    /// Which contacts are connected.
    public let presence = PresenceTracker()
    /// The libp2p host.
    public let host: LibP2P.Host
    let configuration: ChatNodeConfiguration
    let logger: Logger
    let engine: DeliveryEngine
    let inbound: InboundProcessor
    /// Serves our block store over Bitswap and fetches received attachments (ChatNode/Attachments).
    public let attachments: AttachmentFetcher
    /// Throwaway hosts for mailboxes: one to deposit, one to receive, so a mailbox cannot tie
    /// our queues to our PeerID, nor our deposits to our own queues.
    let depositHost: LibP2P.Host
    let receiveHost: LibP2P.Host
    /// Drains and follows our mailbox queues.
    public let mailboxReceiver: MailboxReceiver
    let mailboxRefresh = Doorbell()
    /// Storacha hook: drains our Storacha spaces and renews contacts' deposit rights (ChatNode/Storacha).
    public let storachaReceiver: StorachaReceiver
    let storachaRefresh = Doorbell()
    private let ready = Mutex<(addresses: [Multiaddr]?, failure: ChatNodeError?, waiters: [CheckedContinuation<[Multiaddr], any Error>])>((nil, nil, []))

    /// A node for `account`'s home.
    public init(account: ChatAccount, configuration: ChatNodeConfiguration = ChatNodeConfiguration(), logger: Logger = Logger(label: "p2pchat.node")) {
        self.account = account
        self.configuration = configuration
        self.logger = logger
        let host = LibP2P.Host(configuration: HostConfiguration(identity: account.identity), logger: logger)
        self.host = host
        let locks = KeyedLock<PeerID>()
        depositHost = MailboxClient.makeThrowawayHost(logger: logger)
        receiveHost = MailboxClient.makeThrowawayHost(logger: logger)
        let clock = MailboxDirectory.clock(for: account)
        let depositor = MailboxDepositor(
            client: MailboxClient(host: depositHost, clock: clock), replicas: configuration.mailboxReplicas, logger: logger)
        let storacha = StorachaDirectory(account: account, logger: logger)  // Storacha hook
        let engine = DeliveryEngine(
            account: account, host: host, locks: locks, configuration: configuration, logger: logger, depositor: depositor,
            storacha: StorachaDepositor(directory: storacha, logger: logger))
        self.engine = engine
        var inbound = InboundProcessor(account: account, locks: locks, logger: logger, onQueued: { peer in engine.wake(peer) })
        let attachments = AttachmentFetcher(
            account: account, host: host, mailboxClient: MailboxClient(host: receiveHost, clock: clock),
            retryPolicy: configuration.retryPolicy, logger: logger)
        self.attachments = attachments
        inbound.onAttachment = { attachments.wake() }
        if let hook = configuration.messageHook {
            inbound.onText = { contact, id in
                hook.notify(.init(sender: contact.displayName, senderPeerID: contact.peerID.description, messageID: id.description))
            }
        }
        self.inbound = inbound
        mailboxReceiver = MailboxReceiver(
            account: account, client: MailboxClient(host: receiveHost, clock: clock), inbound: inbound, logger: logger)
        storachaReceiver = StorachaReceiver(directory: storacha, inbound: inbound, logger: logger)  // Storacha hook
    }

    /// Drains our Storacha spaces and renews contacts' rights now (Storacha hook).
    public func refreshStoracha() { storachaRefresh.ring() }

    /// Makes queues for new contacts, announces them, and follows new queues now.
    public func refreshMailboxes() { mailboxRefresh.ring() }

    /// Our PeerID.
    public var peerID: PeerID { account.peerID }

    /// Asks the engine to try every queued message now.
    public func kick() { engine.kickAll() }

    /// The contacts' PeerIDs that are connected now.
    public var onlinePeers: Set<PeerID> { presence.onlinePeers }

    /// The full listen multiaddrs (ending in `/p2p/<id>`) once the node listens; throws if it could not.
    public func listeningAddresses() async throws -> [Multiaddr] {
        try await withCheckedThrowingContinuation { continuation in
            let result = ready.withLock { state -> Result<[Multiaddr], any Error>? in
                if let addresses = state.addresses { return .success(addresses) }
                if let failure = state.failure { return .failure(failure) }
                state.waiters.append(continuation)
                return nil
            }
            if let result { continuation.resume(with: result) }
        }
    }

    private func resolveReady(_ result: Result<[Multiaddr], ChatNodeError>) {
        let waiters = ready.withLock { state in
            switch result {
            case .success(let addresses): state.addresses = addresses
            case .failure(let error): state.failure = error
            }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }

    /// How many delivery passes have completed.
    public var completedDeliveryPasses: UInt64 { engine.completedPasses }

    // MARK: Running

    /// Runs until graceful shutdown or cancellation.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                try await runUntilCancelled()
            }
        } catch is CancellationError {
            // Graceful shutdown or cancellation: a normal end.
        }
    }

    private func runUntilCancelled() async throws {
        let profile: LocalProfile
        do {
            profile = try await account.profile()
        } catch let error as ChatNodeError {
            resolveReady(.failure(error))
            throw error
        }
        var controlServer: ControlSocket.Server?
        if configuration.servesControlSocket {
            if await ControlSocket.send(ControlRequest(op: .presence), home: account.home) != nil {
                let error = ChatNodeError(.control, "a node is already running for \(account.home.path); stop it first or use it")
                resolveReady(.failure(error))
                throw error
            }
            do {
                controlServer = try await ControlSocket.bind(in: account.home)
            } catch let error as ChatNodeError {
                resolveReady(.failure(error))
                throw error
            }
        }
        let control = controlServer
        let events = host.events()
        host.setHandler(for: DeliveryProtocol.protocolID) { [inbound, logger] incoming in
            try await Self.serveDelivery(incoming, inbound: inbound, logger: logger)
        }
        attachments.register()  // attachments hook: Bitswap on our block store, before listening
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.host.run() }
            let bound: [Multiaddr]
            do {
                bound = try await listen(profile: profile)
            } catch let error as ChatNodeError {
                resolveReady(.failure(error))
                await host.shutdown()
                if let control { try? await control.channel.close() }
                throw error
            }
            group.addTask { await self.trackPresence(events) }
            group.addTask { await self.engine.run() }
            group.addTask { await self.attachments.run() }
            group.addTask { await self.depositHost.run() }
            if configuration.receivesFromMailboxes {
                group.addTask { await self.receiveHost.run() }
                group.addTask {
                    await self.mailboxReceiver.run(refresh: self.mailboxRefresh, idle: self.configuration.idleWakeInterval) {
                        await self.provisionMailboxes()
                    }
                }
                group.addTask { await self.storachaReceiver.run(refresh: self.storachaRefresh) { self.engine.kickAll() } }  // Storacha hook
            }
            if let hook = configuration.messageHook {
                group.addTask { await hook.run() }
            }
            if let control {
                group.addTask {
                    await ControlSocket.serve(control, logger: self.logger) { request in
                        await self.handle(request)
                    }
                }
            }
            resolveReady(.success(bound))
            engine.kickAll()
            // Wait for cancellation, then close what does not end by itself.
            group.addTask {
                await Self.waitForCancellation()
                await self.host.shutdown()
                await self.depositHost.shutdown()
                await self.receiveHost.shutdown()
                if let control {
                    try? await control.channel.close()
                    try? FileManager.default.removeItem(atPath: ControlSocket.path(in: self.account.home))
                }
            }
        }
    }

    private static func waitForCancellation() async {
        let (stream, _) = AsyncStream<Void>.makeStream()
        for await _ in stream {}
    }

    private func listen(profile: LocalProfile) async throws -> [Multiaddr] {
        var requested = configuration.listenAddresses ?? []
        if requested.isEmpty {
            let port = profile.listenPort ?? 0
            requested = [try Multiaddr("/ip4/127.0.0.1/tcp/\(port)")]
        }
        var bound: [Multiaddr] = []
        for address in requested {
            do {
                bound += try await host.listen(on: address)
            } catch {
                throw ChatNodeError(.unreachable, "cannot listen on \(address) (\(error)); is another node using the port? choose one with --listen", underlying: error)
            }
        }
        if configuration.announcesAddressChanges, let port = bound.first.flatMap(Self.tcpPort(of:)), port != profile.listenPort {
            try await account.database.setListenPort(port, now: account.now())
            try await account.announceAddresses(bound)
            logger.info("listen address changed; contacts will be told", metadata: ["port": "\(port)"])
        }
        return bound
    }

    /// Creates missing queues for contacts and queues their announcements (then delivers them).
    private func provisionMailboxes() async {
        guard (try? await account.database.mailboxes().isEmpty) == false else { return }
        do {
            let directory = MailboxDirectory(account: account, client: mailboxReceiver.client, logger: logger)
            try await directory.provision()
            engine.kickAll()
        } catch {
            logger.notice("mailbox provisioning failed; will retry", metadata: ["reason": "\(error)"])
        }
    }

    /// The TCP port of a `/ip4/…/tcp/PORT…` address.
    public static func tcpPort(of address: Multiaddr) -> UInt16? {
        let parts = address.description.split(separator: "/")
        guard let index = parts.firstIndex(of: "tcp"), index + 1 < parts.count else { return nil }
        return UInt16(parts[index + 1])
    }

    private func trackPresence(_ events: AsyncStream<HostEvent>) async {
        for await event in events {
            guard let change = presence.apply(event), change.isOnline else { continue }
            if (try? await account.database.contact(peerID: change.peer)) != nil {
                engine.wake(change.peer)
            }
        }
    }

    private func handle(_ request: ControlRequest) async -> ControlResponse {
        switch request.op {
        case .kick:
            engine.kickAll()
            mailboxRefresh.ring()
            return ControlResponse(ok: true)
        case .presence:
            return ControlResponse(ok: true, online: presence.onlinePeers.map(\.description).sorted())
        case .addresses:
            return ControlResponse(ok: true, addresses: host.listenAddresses.map(\.description))
        }
    }

    /// Serves one inbound delivery stream: envelope in, ack out, in order, until the sender closes.
    static func serveDelivery(_ incoming: LibP2P.Host.IncomingStream, inbound: InboundProcessor, logger: Logger) async throws {
        let peer = incoming.connection.remotePeer
        let stream = incoming.stream
        do {
            while let envelope = try await DeliveryProtocol.readDeliver(from: stream) {
                let ack = try await inbound.receive(envelope, from: peer)
                try await stream.writeLengthPrefixed(ack.encoded())
            }
            try? await stream.closeWrite()
        } catch {
            logger.info("delivery stream closed", metadata: ["peer": "\(peer)", "reason": "\(error)"])
            await stream.close()
        }
    }
}
