import ArgumentParser
import ChatNode
import ChatStore
import Foundation
import LibP2P
import Logging
import Mailbox
import Multiformats

/// `p2pchat demo`: offline delivery in one process on loopback — a mailbox, Alice and Bob in
/// temporary homes (removed at the end); Bob goes offline, Alice sends, Bob comes back.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show offline delivery on loopback: a mailbox, Alice and Bob (temporary homes); Bob goes offline, Alice sends, Bob comes back."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    func run() async throws {
        let logger = try global.makeLogger(label: "p2pchat.demo")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("p2pchat-demo-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try await Self.demo(in: directory, logger: logger)
        } catch let error as ChatNodeError {
            throw CLIError("demo failed: \(error.message)")
        }
    }

    /// Prints `+seconds  what`.
    final class Timeline: Sendable {
        let start = ContinuousClock.now
        func print(_ what: String) {
            let elapsed = ContinuousClock.now - start
            let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            Output.line(String(format: "+%6.3fs  ", Double(milliseconds) / 1000) + what)
        }
    }

    static func demo(in directory: URL, logger: Logger) async throws {
        let timeline = Timeline()
        // The mailbox: its own host and database.
        let server = try MailboxServer(home: directory.appendingPathComponent("mailbox"), logger: logger)
        try await HostRunner.withHost(identity: .generate(), logger: logger) { mailboxHost in
            server.register(on: mailboxHost)
            let mailbox = try await mailboxHost.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))[0]
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await server.run() }
                defer { group.cancelAll() }
                timeline.print("mailbox listening at \(mailbox)")
                try await play(mailbox: mailbox, in: directory, timeline: timeline, logger: logger)
            }
            try? server.close()
        }
    }

    static func play(mailbox: Multiaddr, in directory: URL, timeline: Timeline, logger: Logger) async throws {
        let alice = try ChatAccount(home: directory.appendingPathComponent("alice"), identity: .generate())
        let bob = try ChatAccount(home: directory.appendingPathComponent("bob"), identity: .generate())
        try await alice.initialize(name: "alice", listenPort: 0)
        try await bob.initialize(name: "bob", listenPort: 0)
        try await MailboxDirectory.withThrowawayClient(account: bob, logger: logger) { client in
            _ = try await MailboxDirectory(account: bob, client: client, logger: logger).use(mailbox.description)
        }
        timeline.print("bob uses the mailbox (queues are created under a throwaway identity)")

        var aliceConfiguration = node(listen: "/ip4/127.0.0.1/tcp/0")
        aliceConfiguration.retryPolicy = RetryPolicy(initialDelay: .seconds(30), maximumDelay: .seconds(300), multiplier: 2, jitter: 0)
        let aliceNode = ChatNode(account: alice, configuration: aliceConfiguration, logger: logger)
        try await SendCommand.withNodeRunning(aliceNode) { aliceNode in
            // Bob online: he invites Alice (the invite carries a fresh queue on his mailbox).
            let bobNode = ChatNode(account: bob, configuration: node(listen: "/ip4/127.0.0.1/tcp/0"), logger: logger)
            let bobAddress = try await SendCommand.withNodeRunning(bobNode) { bobNode in
                let addresses = try await bobNode.listeningAddresses()
                let queues = try await MailboxDirectory.withThrowawayClient(account: bob, logger: logger) { client in
                    try await MailboxDirectory(account: bob, client: client, logger: logger).makeInviteQueues()
                }
                let invite = try await bob.makeInvite(addresses: addresses, mailboxes: queues)
                try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
                aliceNode.kick()
                try await waitFor("bob to learn alice") { try await bob.database.contact(peerID: alice.peerID) != nil }
                timeline.print("alice added bob from his invite (with \(queues.count) mailbox queue); they are connected")
                return addresses[0]
            }
            timeline.print("bob goes offline")

            let bobContact = try await alice.contact(named: "bob")
            let sent = try await alice.send("Hi Bob! Are you there?", to: bobContact)
            timeline.print("alice sends \"Hi Bob! Are you there?\": queued")
            aliceNode.kick()
            let id = sent.message.id
            try await waitFor("the message to be stored") { try await state(of: id, in: alice).kind == .stored }
            timeline.print("alice's message: \(try await state(of: id, in: alice)) (bob unreachable; deposited in his mailbox)")

            // Bob comes back on the same address.
            let port = ChatNode.tcpPort(of: bobAddress) ?? 0
            let bobAgain = ChatNode(account: bob, configuration: node(listen: "/ip4/127.0.0.1/tcp/\(port)"), logger: logger)
            try await SendCommand.withNodeRunning(bobAgain) { bobAgain in
                timeline.print("bob comes back online and drains his mailbox queues")
                try await waitFor("bob to fetch the message") { try await bob.database.message(id: id) != nil }
                let aliceContact = try await bob.contact(named: "alice")
                let received = try await bob.conversation(with: aliceContact).last
                timeline.print("bob fetched, decrypted and stored: \"\(received?.body ?? "")\"")
                try await waitFor("the delivery receipt") { try await state(of: id, in: alice) == .delivered }
                timeline.print("alice's message: delivered (bob's own encrypted receipt)")
                try await bob.markRead(aliceContact)
                bobAgain.kick()
                try await waitFor("the read receipt") { try await state(of: id, in: alice) == .read }
                timeline.print("alice's message: read")
                let waiting = try await MailboxDirectory.withThrowawayClient(account: bob, logger: logger) { client in
                    try await MailboxDirectory(account: bob, client: client, logger: logger).summaries().compactMap(\.waitingEnvelopes).reduce(0, +)
                }
                guard waiting == 0 else { throw CLIError("the mailbox still holds \(waiting) envelope(s)") }
                timeline.print("deleted from the mailbox: bob's queues hold 0 envelopes")
            }
        }
        timeline.print("done; temporary homes removed")
    }

    static func node(listen: String) -> ChatNodeConfiguration {
        var configuration = ChatNodeConfiguration(listenAddresses: [try! Multiaddr(listen)])
        configuration.servesControlSocket = false
        return configuration
    }

    static func state(of id: MessageID, in account: ChatAccount) async throws -> MessageState {
        try await account.database.message(id: id)?.state ?? .queued
    }

    /// Polls `condition` every 20 ms for up to 30 seconds.
    static func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw CLIError("demo failed: timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
