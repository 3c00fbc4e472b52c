import ArgumentParser
import ChatNode
import ChatStore
import Foundation

/// `p2pchat sync`: drains this home's mailbox queues once, then sends the delivery receipts.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Fetch what waits in your mailboxes once (store, then delete there), print counts, and send the delivery receipts."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Option(name: .long, help: "Seconds to spend delivering the receipts (and other queued messages) before exiting.")
    var wait: Double = 5

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() async throws {
        guard wait >= 0, wait <= 3600 else { throw CLIError("--wait must be 0–3600 seconds") }
        let account = try await ChatCLI.openAccount(global)
        let logger = try global.makeLogger()
        try await ChatCLI.run {
            let report = try await MailboxDirectory.withThrowawayClient(account: account, logger: logger) { client in
                try await MailboxReceiver(account: account, client: client, logger: logger).drainAll()
            }
            let storacha = try await StorachaDrainCommand.drainIfUsed(account: account, logger: logger)  // Storacha hook
            if json {
                try Output.json(report)
            } else {
                Output.line("fetched \(report.fetched), stored \(report.stored), duplicates \(report.duplicates), rejected \(report.rejected), deleted at the mailbox \(report.acknowledged)"
                    + (report.failedQueues > 0 ? ", \(report.failedQueues) queue(s) unreachable" : ""))
                if let storacha { Output.line(StorachaDrainCommand.summary(storacha)) }  // Storacha hook
            }
            // Receipts (and anything else queued) go out now.
            if await ChatCLI.askNode(.kick, home: account.home) == nil, wait > 0 {
                let pending = try await account.database.dueOutbox(now: .distantFuture, limit: 1_000_000)
                    .filter { $0.message.state == .queued }.map(\.message.id)
                if !pending.isEmpty {
                    _ = try await SendCommand.deliverWithShortLivedNode(account: account, ids: pending, seconds: wait, logger: logger)
                }
            }
        }
    }
}
