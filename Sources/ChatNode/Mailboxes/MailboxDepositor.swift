import ChatStore
import Foundation
import IPFS
import Logging
import Mailbox
import Multiformats

/// The sending side of offline delivery (ARCHITECTURE.md Delivery §3): puts already-sealed
/// envelopes in k of the recipient's n mailbox queues. The same bytes go everywhere, so every
/// mailbox stores them under the same CID.
///
/// Queues are tried in the recipient's order until k accepted; a refusal (quota, rate limit,
/// unknown queue, unreachable…) is recorded on the message with its reason and the next queue
/// is tried; that queue is skipped for the rest of the batch. A message no queue accepted stays
/// `queued` and is retried later. A mailbox's acceptance makes a text `stored k/n`, never
/// `delivered`: that takes the recipient's own receipt.
struct MailboxDepositor: Sendable {
    /// What depositing one envelope achieved.
    struct Outcome: Sendable {
        /// Queues that accepted it.
        var copies: Int
        /// Queues the recipient has.
        var total: Int
        /// Refusals, one line each (`mailbox: reason`).
        var refusals: [String]
    }

    let client: MailboxClient
    /// How many copies to aim for (k = min(replicas, n)).
    let replicas: Int
    let logger: Logger

    /// An open batch to one recipient: sessions are opened lazily and reused.
    final class Batch {
        let addresses: [QueueAddress]
        var sessions: [Int: MailboxSession] = [:]
        var refused: [Int: String] = [:]

        init(addresses: [QueueAddress]) {
            self.addresses = addresses
        }
    }

    /// An attachment's DAG to put in a queue before its message's envelope.
    struct Attachment: Sendable {
        /// The blob's root.
        var root: CID
        /// Our block store, which holds the DAG.
        var blockstore: Blockstore
    }

    /// The recipient's queue addresses that parse.
    static func addresses(of contact: Contact) -> [QueueAddress] {
        contact.mailboxes.compactMap { try? QueueAddress(parsing: Array($0)) }
    }

    /// Deposits `envelope` in up to k queues of `batch`, with time-to-live `ttlSeconds`; an
    /// `attachment`'s blocks go to each queue first. Blocks a queue refuses (quota, an older
    /// mailbox) are logged and the envelope still goes: the recipient can fetch from us.
    func deposit(_ envelope: Data, ttlSeconds: UInt64, in batch: Batch, attachment: Attachment? = nil) async -> Outcome {
        let total = batch.addresses.count
        let wanted = min(max(1, replicas), total)
        var outcome = Outcome(copies: 0, total: total, refusals: [])
        for (index, address) in batch.addresses.enumerated() where outcome.copies < wanted {
            if let reason = batch.refused[index] {
                outcome.refusals.append("\(address.mailbox): \(reason)")
                continue
            }
            do {
                var session: MailboxSession
                if let open = batch.sessions[index] {
                    session = open
                } else {
                    session = try await client.session(to: address.mailbox)
                    batch.sessions[index] = session
                }
                if let attachment, !(await depositBlocks(of: attachment, to: address, over: session, ttlSeconds: ttlSeconds)) {
                    // The mailbox may have closed the stream after refusing: a fresh one for the envelope.
                    await session.close()
                    batch.sessions[index] = nil
                    session = try await client.session(to: address.mailbox)
                    batch.sessions[index] = session
                }
                _ = try await session.deposit(Array(envelope), to: address, ttlSeconds: ttlSeconds)
                outcome.copies += 1
            } catch {
                let reason = (error as? MailboxError).map { "\($0.code): \($0.message)" } ?? "\(error)"
                batch.refused[index] = reason
                if let session = batch.sessions.removeValue(forKey: index) { await session.close() }
                outcome.refusals.append("\(address.mailbox): \(reason)")
                logger.notice("mailbox refused a deposit", metadata: ["mailbox": "\(address.mailbox)", "reason": "\(reason)"])
            }
        }
        return outcome
    }

    /// Puts the attachment's blocks in the queue at `address`; `false` (logged) if the queue
    /// did not take them all.
    private func depositBlocks(of attachment: Attachment, to address: QueueAddress, over session: MailboxSession, ttlSeconds: UInt64) async -> Bool {
        do {
            try await AttachmentMailboxBlocks.forEachBatch(root: attachment.root, blockstore: attachment.blockstore) { blocks in
                try await session.depositBlocks(blocks, to: address, ttlSeconds: ttlSeconds)
            }
            return true
        } catch {
            let reason = (error as? MailboxError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            logger.notice("attachment blocks not deposited; the recipient can fetch them from us", metadata: [
                "mailbox": "\(address.mailbox)", "attachment": "\(attachment.root)", "reason": "\(reason)",
            ])
            return false
        }
    }

    /// Closes the batch's sessions.
    func close(_ batch: Batch) async {
        for session in batch.sessions.values { await session.close() }
        batch.sessions = [:]
    }
}
