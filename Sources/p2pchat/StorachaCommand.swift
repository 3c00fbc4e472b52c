import ArgumentParser
import ChatNode
import Foundation
import Logging
import Storacha
import StorachaConformance

/// `p2pchat storacha …`: Storacha spaces as durable inboxes (contacts deposit sealed envelopes
/// in your space while you are offline; you drain it).
struct StorachaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storacha",
        abstract: "Receive in a Storacha space while offline: contacts you delegate to deposit encrypted envelopes there.",
        subcommands: [
            StorachaConfigCommand.self, StorachaSpaceCommand.self, StorachaDelegateCommand.self, StorachaRevokeCommand.self,
            StorachaDrainCommand.self, StorachaServeLocalCommand.self,
        ]
    )
}

/// Runs `body` with this home's Storacha directory.
private func withStorachaDirectory<T: Sendable>(
    _ global: GlobalOptions, _ body: @escaping @Sendable (StorachaDirectory) async throws -> T
) async throws -> T {
    let account = try await ChatCLI.openAccount(global)
    let logger = try global.makeLogger(label: "p2pchat.storacha")
    return try await ChatCLI.run {
        do {
            return try await body(StorachaDirectory(account: account, logger: logger))
        } catch let error as StorachaError {
            throw CLIError("Storacha: \(error.code): \(error.message)" + (error.remoteName.map { " [\($0)]" } ?? ""))
        }
    }
}

/// `p2pchat storacha config [--service-url URL] [--service-did DID] [--gateway URL] [--service-key DID] [--reset]`.
struct StorachaConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or set the Storacha service (default: the published up.storacha.network; the hosted service is moving, so you can switch)."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "The ucanto endpoint, e.g. https://up.storacha.network.")
    var serviceURL: String?

    @Option(name: .long, help: "The service DID, e.g. did:web:up.storacha.network.")
    var serviceDID: String?

    @Option(name: .long, help: "The trustless gateway for ?format=raw retrieval, e.g. https://w3s.link.")
    var gateway: String?

    @Option(name: .long, help: "The service's did:key, to verify receipt signatures (optional).")
    var serviceKey: String?

    @Flag(name: .long, help: "Go back to the default service.")
    var reset = false

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let changes = serviceURL != nil || serviceDID != nil || gateway != nil || serviceKey != nil
        guard !(reset && changes) else { throw CLIError("give either --reset or the settings to change") }
        let (serviceURL, serviceDID, gateway, serviceKey, reset) = (serviceURL, serviceDID, gateway, serviceKey, reset)
        let endpoint = try await withStorachaDirectory(global) { directory in
            guard changes || reset else { return try await directory.endpoint() }
            var endpoint = reset ? StorachaEndpoint.default : try await directory.endpoint()
            func url(_ text: String?, _ option: String) throws -> URL? {
                guard let text else { return nil }
                guard let url = URL(string: text), url.host != nil else { throw CLIError("\(option) '\(text)' is not a URL") }
                return url
            }
            endpoint = try StorachaEndpoint(
                serviceURL: try url(serviceURL, "--service-url") ?? endpoint.serviceURL, serviceDID: serviceDID ?? endpoint.serviceDID,
                gatewayURL: try url(gateway, "--gateway") ?? endpoint.gatewayURL,
                serviceKey: serviceKey ?? (serviceURL != nil || serviceDID != nil ? nil : endpoint.serviceKey))
            try await directory.configure(endpoint)
            return endpoint
        }
        if json { return try Output.json(endpoint) }
        Output.line("service \(endpoint.serviceURL.absoluteString) (\(endpoint.serviceDID))")
        Output.line("gateway \(endpoint.gatewayURL.absoluteString)")
        if let key = endpoint.serviceKey { Output.line("receipts verified with \(key)") }
    }
}

/// `p2pchat storacha space add|list`.
struct StorachaSpaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "space",
        abstract: "The Storacha spaces you receive in.",
        subcommands: [StorachaSpaceAddCommand.self, StorachaSpaceListCommand.self]
    )
}

/// `p2pchat storacha space add DELEGATION`.
struct StorachaSpaceAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Receive in a space: import a delegation that lets your Storacha did:key (see `storacha space list`) add, list and remove blobs there."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The delegation: the m… text `storacha delegation create <your did:key> --can 'space/*' --base64` prints, or a path to its .car file.")
    var delegation: String

    func run() async throws {
        let text = delegation
        let spaces = try await withStorachaDirectory(global) { directory in
            try await directory.addSpace(try StorachaDirectory.readDelegation(text))
        }
        _ = await ChatCLI.askNode(.kick, home: try global.openHome().directory)
        for space in spaces {
            Output.line("receiving in space \(space); give contacts deposit rights with `p2pchat storacha delegate CONTACT`")
        }
    }
}

/// `p2pchat storacha space list`.
struct StorachaSpaceListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List your spaces, the contacts that may deposit there, and your Storacha did:key (not your PeerID's key)."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let (did, spaces) = try await withStorachaDirectory(global) { directory in
            (try directory.did().string, try await directory.spaces())
        }
        if json { return try Output.json(spaces) }
        Output.line("your Storacha did:key (delegate spaces to it): \(did)")
        if spaces.isEmpty { Output.line("no spaces: add one with `p2pchat storacha space add DELEGATION`") }
        for space in spaces {
            let expiry = space.expiresAt.map { "until \(ChatCLI.timestamp($0))" } ?? "no expiry"
            let who = space.depositors.isEmpty ? "no depositors" : "depositors: " + space.depositors.joined(separator: ", ")
            Output.line("\(space.space)\t\(expiry)\t\(who)")
        }
    }
}

/// `p2pchat storacha delegate CONTACT [--hours N] [--space DID]`.
struct StorachaDelegateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate",
        abstract: "Let a contact deposit (space/blob/add only) in your space while you are offline; sent inside the encrypted session, renewed until revoked."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The contact's name.")
    var contact: String

    @Option(name: .long, help: "Lifetime of each delegation in hours (1–720); renewed at half-life while you run a node.")
    var hours: Int = 24

    @Option(name: .long, help: "The space, when you have several.")
    var space: String?

    func run() async throws {
        guard (1...720).contains(hours) else { throw CLIError("--hours must be 1–720") }
        let (name, hours, space) = (contact, hours, space)
        let grant = try await withStorachaDirectory(global) { directory in
            let contact = try await directory.account.contact(named: name)
            return (contact.displayName, try await directory.delegate(to: contact, space: space, lifetime: .seconds(hours * 3600)))
        }
        _ = await ChatCLI.askNode(.kick, home: try global.openHome().directory)
        Output.line("\(grant.0) may deposit in \(grant.1.space) until \(ChatCLI.timestamp(grant.1.expiresAt)) (renewed while not revoked); queued for delivery in the session")
    }
}

/// `p2pchat storacha revoke CONTACT`.
struct StorachaRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Stop a contact's deposits: no more renewals, and the contact is told; its last delegation lapses at its expiry."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The contact's name.")
    var contact: String

    func run() async throws {
        let name = contact
        let (display, count) = try await withStorachaDirectory(global) { directory in
            let contact = try await directory.account.contact(named: name)
            return (contact.displayName, try await directory.revoke(contact))
        }
        _ = await ChatCLI.askNode(.kick, home: try global.openHome().directory)
        if count == 0 { return Output.line("\(display) had no deposit rights") }
        Output.line("revoked \(display)'s deposit rights on \(count) space(s): no renewals; the last delegation expires on its own (ucan/revoke is not used)")
    }
}

/// `p2pchat storacha drain`: one drain of our spaces (also part of `p2pchat sync`).
struct StorachaDrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Fetch what contacts deposited in your spaces once (store, then remove there); `p2pchat sync` does this too."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        let logger = try global.makeLogger(label: "p2pchat.storacha")
        let report = try await withStorachaDirectory(global) { directory in
            try await StorachaReceiver(directory: directory, logger: logger).drainAll()
        }
        _ = await ChatCLI.askNode(.kick, home: try global.openHome().directory)
        if json { return try Output.json(report) }
        Output.line(StorachaDrainCommand.summary(report))
    }

    /// One line for a drain report.
    static func summary(_ report: StorachaDrainReport) -> String {
        "storacha: fetched \(report.fetched), stored \(report.stored), duplicates \(report.duplicates), rejected \(report.rejected), removed \(report.removed)"
            + (report.skipped > 0 ? ", \(report.skipped) other blob(s) left alone" : "")
            + (report.failedBlobs > 0 ? ", \(report.failedBlobs) blob(s) not fetched" : "")
            + (report.failedSpaces > 0 ? ", \(report.failedSpaces) space(s) unreachable" : "")
    }
}

/// `p2pchat storacha serve-local --port P --space DID…` (hidden): the project's LOCAL
/// CONFORMANCE SERVICE for tests and demos, standing in for the hosted Storacha API.
struct StorachaServeLocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-local",
        abstract: "Tests and demos only: run the local Storacha conformance service on 127.0.0.1 (not the hosted service).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "Port on 127.0.0.1 (0 = any).")
    var port: Int = 0

    @Option(name: .long, help: "Provision this space DID (repeatable).")
    var space: [String] = []

    @Option(name: .long, help: "Also write a delegation of space/* from a fresh space to this did:key and print it (m… text).")
    var delegateTo: [String] = []

    func run() async throws {
        guard (0...65535).contains(port) else { throw CLIError("--port must be 0–65535") }
        let key = try Signer(ed25519Seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let service = ConformanceService(key: key, did: try DID.web("localhost"))
        let server = ConformanceServer(service: service)
        for text in space {
            do { service.provision(try DID(parsing: text)) } catch { throw CLIError("--space '\(text)' is not a DID") }
        }
        let url = try await server.start(port: port)
        Output.line("local Storacha conformance service at \(url.absoluteString) (\(service.did)); use: p2pchat storacha config --service-url \(url.absoluteString) --service-did \(service.did) --gateway \(url.absoluteString)")
        for audience in delegateTo {
            let space = try Signer(ed25519Seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
            service.provision(space.did)
            let delegation = try Delegation.issue(
                issuer: space, audience: try DID(parsing: audience), capabilities: [Capability(can: "space/*", with: space.did.string)], expiration: nil)
            Output.line("space \(space.did) for \(audience): \(try delegation.formatted())")
        }
        await HostRunner.waitForTerminationSignal()
        try await server.stop()
    }
}

extension StorachaDrainCommand {
    /// For `p2pchat sync`: renews contacts' deposit rights and drains our spaces once; `nil`
    /// when this home has no space. Failures become a report line, never a failed sync.
    static func drainIfUsed(account: ChatAccount, logger: Logger) async throws -> StorachaDrainReport? {
        guard try await !account.database.storachaSpaces().isEmpty else { return nil }
        let directory = StorachaDirectory(account: account, logger: logger)
        do {
            try await directory.renewDue()
            return try await StorachaReceiver(directory: directory, logger: logger).drainAll()
        } catch {
            logger.warning("Storacha drain failed", metadata: ["reason": "\(error)"])
            var report = StorachaDrainReport()
            report.failedSpaces = 1
            return report
        }
    }
}
