import ChatStore
import Foundation
import Mailbox

/// One of our mailbox queues with the counters and quotas its mailbox reports, for the web UI's
/// storage view.
public struct MailboxQueueUsage: Sendable, Hashable {
    /// The queue as stored.
    public var queue: MailboxQueueRecord
    /// Envelopes stored, bytes stored and the per-queue quotas; `nil` when the mailbox did not
    /// answer in time.
    public var envelopeCount: UInt64?
    public var byteCount: UInt64?
    public var maxEnvelopes: UInt64?
    public var maxBytes: UInt64?
}

extension ChatNode {
    /// A fresh queue on each of our mailboxes for one invite (as `p2pchat invite` makes them),
    /// through the node's mailbox client; empty when we use no mailbox.
    public func makeInviteMailboxQueues() async throws -> [[UInt8]] {
        guard try await !account.database.mailboxes().isEmpty else { return [] }
        return try await MailboxDirectory(account: account, client: mailboxReceiver.client).makeInviteQueues()
    }

    /// Our queues with their mailboxes' counters and quotas, asked through the node's mailbox
    /// client, all queues at once; a queue whose mailbox does not answer within `timeout` (or
    /// fails) has `nil` counters.
    public func mailboxQueueUsage(timeout: Duration = .seconds(3)) async throws -> [MailboxQueueUsage] {
        let queues = try await account.database.mailboxQueues()
        let client = mailboxReceiver.client
        return await withTaskGroup(of: (Int, QueueStatus?).self) { group in
            for (index, queue) in queues.enumerated() {
                group.addTask {
                    guard let credentials = try? QueueCredentials(parsing: Array(queue.credentials)) else { return (index, nil) }
                    return await withTaskGroup(of: QueueStatus?.self) { race in
                        race.addTask { try? await client.status(of: credentials) }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return nil
                        }
                        let first = await race.next() ?? nil
                        race.cancelAll()
                        return (index, first)
                    }
                }
            }
            var usage = queues.map { MailboxQueueUsage(queue: $0) }
            for await (index, status) in group {
                guard let status else { continue }
                usage[index].envelopeCount = status.envelopeCount
                usage[index].byteCount = status.byteCount
                usage[index].maxEnvelopes = status.maxEnvelopes
                usage[index].maxBytes = status.maxBytes
            }
            return usage
        }
    }
}
