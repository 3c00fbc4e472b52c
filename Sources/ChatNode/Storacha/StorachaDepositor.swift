import ChatStore
import Foundation
import Logging
import Storacha

/// The sending side of Storacha inboxes (ARCHITECTURE.md Delivery §3): puts an already-sealed
/// envelope, as a ``StorachaDrop``, into a recipient's Storacha space with the full
/// `space/blob/add` flow, using the delegation the recipient gave us and signing with the
/// deposit key that came with it (``StorachaDepositKey``), never with our identity: the service
/// sees a random key, the recipient's space and a drop (tag ‖ sealed envelope). Each space counts
/// as one of the recipient's mailboxes toward "stored k/n".
///
/// A refusal (our rights expired or revoked, a bad delegation, an error receipt, an HTTP
/// failure) is recorded with its reason and the space is skipped for the rest of the batch;
/// the message stays queued for the mailboxes or a later retry. Nothing is lost.
struct StorachaDepositor: Sendable {
    let directory: StorachaDirectory
    let logger: Logger

    /// One recipient's spaces for one delivery batch.
    final class Batch {
        let inboxes: [StorachaInboxRecord]
        var refused: [Int: String] = [:]

        init(inboxes: [StorachaInboxRecord]) {
            self.inboxes = inboxes
        }
    }

    /// The contact's spaces we may deposit in (expired ones too: they refuse with a reason).
    func batch(for contact: Contact) async -> Batch {
        Batch(inboxes: (try? await directory.account.database.storachaInboxes(contactID: contact.id)) ?? [])
    }

    /// Adds the batch's spaces to `outcome.total` and deposits `envelope` in them until
    /// `outcome.copies` reaches `wanted`.
    func deposit(_ envelope: Data, in batch: Batch, wanted: Int, into outcome: inout MailboxDepositor.Outcome) async {
        outcome.total += batch.inboxes.count
        for (index, inbox) in batch.inboxes.enumerated() where outcome.copies < wanted {
            if let reason = batch.refused[index] {
                outcome.refusals.append("storacha \(inbox.space): \(reason)")
                continue
            }
            do {
                try await deposit(envelope, in: inbox)
                outcome.copies += 1
            } catch is CancellationError {
                return
            } catch {
                let reason = StorachaDirectory.describe(error)
                batch.refused[index] = reason
                outcome.refusals.append("storacha \(inbox.space): \(reason)")
                logger.notice("Storacha space refused a deposit", metadata: ["space": "\(inbox.space)", "reason": "\(reason)"])
            }
        }
    }

    /// Deposits one envelope in one space; throws with the reason it was refused.
    func deposit(_ envelope: Data, in inbox: StorachaInboxRecord) async throws {
        let delegation = try Delegation(archive: Array(inbox.delegation))
        let now = directory.account.now()
        if let expiry = inbox.expiresAt, expiry <= now {
            throw ChatNodeError(
                .rejected, "our deposit rights expired at \(expiry.formatted(.iso8601)) (the recipient renews them while it trusts us)")
        }
        let depositKey = try StorachaDepositKey.signer(stored: inbox.depositKey)
        guard delegation.ucan.audience == depositKey.did else {
            throw ChatNodeError(.malformedInput, "stored delegation is not for the stored deposit key; waiting for the contact to grant again")
        }
        let client = try directory.client(try StorachaEndpoint(json: inbox.endpoint), agent: depositKey)
        let drop = StorachaDrop(tag: inbox.tag, envelope: envelope)
        _ = try await client.addBlob(drop.encoded, to: try DID(parsing: inbox.space), proofs: [delegation])
    }
}
