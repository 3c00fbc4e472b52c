import ArgumentParser
import ChatNode
import ChatStore
import Foundation
import Logging

/// `p2pchat send NAME TEXT`: queues a message, then delivers it through the running node or a
/// short-lived one.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message: it is queued at once, then delivered by the running node (or by this command for a few seconds)."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The contact's name.")
    var name: String

    @Argument(help: "The message text (with --file, the file's caption).")
    var text: String?

    @Option(name: .long, help: "Send this file as an encrypted attachment; the recipient's node fetches it from ours.")
    var file: String?

    @Option(name: .long, help: "Seconds to wait for delivery before leaving the message queued.")
    var wait: Double = 5

    @Flag(name: .long, help: .hidden)
    var stdinLines = false

    func run() async throws {
        guard wait >= 0, wait <= 3600 else { throw CLIError("--wait must be 0–3600 seconds") }
        let account = try await ChatCLI.openAccount(global)
        let logger = try global.makeLogger()
        try await ChatCLI.run {
            let contact = try await account.contact(named: name)
            var lines: [String] = []
            var ids: [MessageID] = []
            if let file {  // attachments hook
                ids.append(try await account.sendFile(URL(fileURLWithPath: file), text: text, to: contact, progress: Self.printProgress).message.id)
            } else if stdinLines {
                while let line = readLine(strippingNewline: true) { if !line.isEmpty { lines.append(line) } }
            } else if let text {
                lines = [text]
            } else {
                throw CLIError("nothing to send: give the text after the name")
            }
            for line in lines { ids.append(try await account.send(line, to: contact).message.id) }
            guard let last = ids.last else { throw CLIError("nothing to send: stdin was empty") }
            let states: [MessageState]
            let nodeRuns: Bool
            if await ChatCLI.askNode(.kick, home: account.home) != nil {
                nodeRuns = true
                states = try await Self.waitWhileQueued(ids: [last], account: account, seconds: wait)
            } else {
                nodeRuns = false
                states = try await Self.deliverWithShortLivedNode(account: account, ids: [last], seconds: wait, logger: logger)
            }
            if ids.count > 1 { Output.line("queued \(ids.count) messages to \(contact.displayName)") }
            if file != nil && !nodeRuns {
                FileHandle.standardError.write(Data("note: \(contact.displayName)'s node fetches the file from ours: keep `p2pchat up` running until it has\n".utf8))
            }
            switch states.first ?? .queued {
            case .queued:
                Output.line(nodeRuns
                    ? "queued: \(contact.displayName) is offline; the running node will retry"
                    : "queued: \(contact.displayName) is offline; will retry when a node runs")
            case .failed(let reason):
                let error = try await account.database.message(id: last)?.error ?? ""
                throw CLIError("failed(\(reason)): \(error.isEmpty ? "the message was not delivered" : error)")
            case let state:
                Output.line(ChatCLI.display(state))
            }
        }
    }

    /// Prints an attachment's encryption progress on stderr, every 5 %.
    @Sendable static func printProgress(done: UInt64, total: UInt64) {
        let percent = total == 0 ? 100 : done * 100 / total
        guard percent % 5 == 0 else { return }
        let line = "encrypting: \(percent)% (\(AttachmentSummary.format(bytes: done)) of \(AttachmentSummary.format(bytes: total)))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Polls the database until the messages leave `queued` or `seconds` pass.
    static func waitWhileQueued(ids: [MessageID], account: ChatAccount, seconds: Double) async throws -> [MessageState] {
        try await waitWhile(.queued, ids: ids, account: account, seconds: seconds)
    }

    /// Polls the database until no message is in `state` or `seconds` pass.
    static func waitWhile(_ state: MessageState, ids: [MessageID], account: ChatAccount, seconds: Double) async throws -> [MessageState] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while true {
            var states: [MessageState] = []
            for id in ids { states.append(try await account.database.message(id: id)?.state ?? .queued) }
            if !states.contains(state) || ContinuousClock.now >= deadline { return states }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs a node without control socket for up to `seconds` to deliver the queue.
    static func deliverWithShortLivedNode(account: ChatAccount, ids: [MessageID], seconds: Double, logger: Logger) async throws -> [MessageState] {
        guard seconds > 0 else { return ids.map { _ in .queued } }
        var configuration = ChatNodeConfiguration()
        configuration.servesControlSocket = false
        configuration.announcesAddressChanges = false
        do {
            let node = ChatNode(account: account, configuration: configuration, logger: logger)
            return try await withNodeRunning(node) { _ in
                let states = try await waitWhileQueued(ids: ids, account: account, seconds: seconds)
                guard states.contains(.sent) else { return states }
                // Sent: the delivery receipt usually follows at once (the peer dials us back).
                return try await waitWhile(.sent, ids: ids, account: account, seconds: min(seconds, 1))
            }
        } catch let error as ChatNodeError where error.code == .unreachable {
            // The stored port is taken (another process?): deliver from an ephemeral one.
            configuration.listenAddresses = [try .init("/ip4/127.0.0.1/tcp/0")]
            let node = ChatNode(account: account, configuration: configuration, logger: logger)
            return try await withNodeRunning(node) { _ in
                try await waitWhileQueued(ids: ids, account: account, seconds: seconds)
            }
        }
    }

    static func withNodeRunning<T: Sendable>(_ node: ChatNode, _ body: @Sendable (ChatNode) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await node.run() }
            do {
                _ = try await node.listeningAddresses()
                let result = try await body(node)
                group.cancelAll()
                try? await group.waitForAll()
                return result
            } catch {
                group.cancelAll()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
