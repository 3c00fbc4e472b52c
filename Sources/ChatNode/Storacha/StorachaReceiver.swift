import ChatStore
import Foundation
import LibP2P
import Logging
import Multiformats
import Storacha

/// The receiving side of Storacha inboxes (ARCHITECTURE.md Delivery §4): drains our spaces
/// through the same inbound path as direct delivery, and renews contacts' deposit rights.
///
/// Per space: `space/blob/list` (pages), fetch each blob from the gateway (hash verified),
/// read it as a ``StorachaDrop``, find the contact by its tag, hand the envelope to
/// `InboundProcessor` (decrypt, de-duplicate, store, queue a delivery receipt), and only then
/// `space/blob/remove` it. A crash in between re-delivers the drop, which de-duplicates. Blobs
/// that are not drops are left alone.
public final class StorachaReceiver: Sendable {
    /// Blobs listed per page.
    public static let pageSize = 100
    /// How often a running node drains and renews without being asked.
    public static let defaultInterval: Duration = .seconds(60)

    /// The home's Storacha state.
    public let directory: StorachaDirectory
    let inbound: InboundProcessor
    let logger: Logger

    /// A receiver for one-off drains (`p2pchat sync`): receipts are queued, not sent.
    public convenience init(directory: StorachaDirectory, logger: Logger = Logger(label: "p2pchat.storacha")) {
        let inbound = InboundProcessor(account: directory.account, locks: KeyedLock<PeerID>(), logger: logger, onQueued: { _ in })
        self.init(directory: directory, inbound: inbound, logger: logger)
    }

    init(directory: StorachaDirectory, inbound: InboundProcessor, logger: Logger) {
        self.directory = directory
        self.inbound = inbound
        self.logger = logger
    }

    /// Drains every space once; a space that cannot be listed is counted in `failedSpaces`.
    public func drainAll() async throws -> StorachaDrainReport {
        var report = StorachaDrainReport()
        let spaces = try await directory.account.database.storachaSpaces()
        guard !spaces.isEmpty else { return report }
        let client = try directory.client(try await directory.endpoint())
        for space in spaces {
            do {
                report += try await drain(space, with: client)
            } catch let error as ChatStoreError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                report.failedSpaces += 1
                logger.notice("cannot drain a Storacha space", metadata: ["space": "\(space.space)", "reason": "\(StorachaDirectory.describe(error))"])
            }
        }
        return report
    }

    /// Drains one space until its listing has no drops left.
    func drain(_ record: StorachaSpaceRecord, with client: StorachaClient) async throws -> StorachaDrainReport {
        let space = try DID(parsing: record.space)
        let proof = try Delegation(archive: Array(record.delegation))
        guard proof.ucan.audience == client.agent.did else {
            throw ChatNodeError(
                .malformedInput,
                "the space's delegation is for \(proof.ucan.audience), not this user's Storacha did:key \(client.agent.did); add a fresh one with `p2pchat storacha space add`")
        }
        var senders: [Data: PeerID] = [:]
        for grant in try await directory.account.database.storachaGrants() where grant.space == record.space {
            if let contact = try await directory.account.database.contact(id: grant.contactID) { senders[grant.tag] = contact.peerID }
        }
        var report = StorachaDrainReport()
        var leftAlone: Set<Multihash> = []
        var cursor: String?
        while true {
            try Task.checkCancellation()
            let page = try await client.listBlobs(in: space, cursor: cursor, size: Self.pageSize, proofs: [proof])
            var removedAny = false
            for item in page.results where !leftAlone.contains(item.digest) {
                guard item.size <= StorachaDrop.maximumLength else {
                    leftAlone.insert(item.digest)
                    report.skipped += 1
                    continue
                }
                let bytes: [UInt8]
                do {
                    bytes = try await client.fetchBlob(item.digest)
                } catch {
                    leftAlone.insert(item.digest)
                    report.failedBlobs += 1
                    logger.notice("cannot fetch a blob from the gateway", metadata: ["cid": "\(item.cid)", "reason": "\(StorachaDirectory.describe(error))"])
                    continue
                }
                guard let drop = try? StorachaDrop(parsing: bytes) else {
                    leftAlone.insert(item.digest)
                    report.skipped += 1
                    continue
                }
                report.fetched += 1
                if let sender = senders[drop.tag] {
                    let ack = try await inbound.receive(Array(drop.envelope), from: sender)
                    switch ack.status {
                    case .stored: report.stored += 1
                    case .duplicate: report.duplicates += 1
                    case .rejected:
                        report.rejected += 1
                        logger.notice("Storacha drop rejected", metadata: ["reason": "\(ack.reason)"])
                    }
                } else {
                    report.rejected += 1
                    logger.notice("Storacha drop with an unknown tag; removed")
                }
                // Stored (or refused for good) first, then removed from the space.
                try await client.removeBlob(item.digest, from: space, proofs: [proof])
                report.removed += 1
                leftAlone.insert(item.digest)  // handled: never again in this drain
                removedAny = true
            }
            if removedAny {
                cursor = nil  // the listing changed under the cursor: start over (left-alone blobs are not fetched again)
            } else if let next = page.cursor, !page.results.isEmpty {
                cursor = next
            } else {
                break
            }
        }
        return report
    }

    /// For the node: renews contacts' rights and drains every space now, then again every
    /// `interval` or when `refresh` rings; until cancelled.
    func run(refresh: Doorbell, interval: Duration = defaultInterval, onRenewed: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                if try await directory.renewDue() > 0 { onRenewed() }
                let report = try await drainAll()
                if report.fetched > 0 {
                    logger.info("drained Storacha spaces", metadata: ["stored": "\(report.stored)", "duplicates": "\(report.duplicates)"])
                }
            } catch is CancellationError {
                return
            } catch {
                logger.notice("Storacha drain failed", metadata: ["reason": "\(StorachaDirectory.describe(error))"])
            }
            await refresh.wait(atMost: interval)
        }
    }
}
