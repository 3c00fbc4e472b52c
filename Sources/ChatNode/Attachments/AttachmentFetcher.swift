import ChatStore
import Foundation
import IPFS
import IPLD
import LibP2P
import Logging
import Mailbox
import Multiformats
import Synchronization

/// The receiving side of attachments, run by ``ChatNode``: serves the home's block store over
/// Bitswap (so contacts can fetch what we sent) and fetches what contacts sent us.
///
/// For every received attachment message it keeps a record (`pending → fetching → done |
/// failed(reason)`), fetches the blob's DAG over Bitswap from the sender (every block is
/// verified against its CID on arrival), then decrypts it chunk by chunk into a temporary file
/// in `<home>/attachments/<message id>/` that is renamed to the sanitized file name only once
/// the whole blob authenticated. Network and storage failures are retried with backoff (and at
/// once when a peer connects) up to ``Options/maximumAttempts``; a blob that does not decrypt
/// or a malformed DAG fails for good. When the sender cannot be reached, the blocks are fetched
/// from our mailbox queues instead (the sender deposits them there with the message while we
/// are offline), verified, stored, and acknowledged so the mailbox deletes them. The message itself was stored and acknowledged before
/// any of this starts.
public final class AttachmentFetcher: Sendable {
    /// Tuning.
    public struct Options: Sendable {
        /// Attempts before a failure is final.
        public var maximumAttempts = 12
        /// Backoff between attempts.
        public var retryPolicy = RetryPolicy.default
        /// The Bitswap session settings.
        public var bitswap = BitswapSessionState.Options()
        /// The longest the loop sleeps without a reason.
        public var idleWakeInterval: Duration = .seconds(60)
        /// Progress is written to the database after every this many bytes.
        public var progressStep: UInt64 = 512 * 1024

        /// The defaults.
        public init() {}
    }

    private struct State {
        var bitswap: Bitswap?
        var options = Options()
        var forced = false
        var passes: UInt64 = 0
    }

    let account: ChatAccount
    let host: LibP2P.Host
    /// Reaches our mailbox queues (a throwaway-identity host); `nil`: Bitswap only.
    let mailboxClient: MailboxClient?
    let logger: Logger
    private let doorbell = Doorbell()
    private let state = Mutex(State())

    init(account: ChatAccount, host: LibP2P.Host, mailboxClient: MailboxClient? = nil, retryPolicy: RetryPolicy, logger: Logger) {
        self.account = account
        self.host = host
        self.mailboxClient = mailboxClient
        self.logger = logger
        state.withLock { $0.options.retryPolicy = retryPolicy }
    }

    /// The current tuning; set it before the node runs (tests shorten timeouts).
    public var options: Options {
        get { state.withLock { $0.options } }
        set { state.withLock { $0.options = newValue } }
    }

    /// How many fetch passes have completed (for tests).
    public var completedPasses: UInt64 { state.withLock { $0.passes } }

    /// Opens the block store and registers the Bitswap handlers on the host. Call before the
    /// host listens (Identify must list Bitswap). Failure is logged: the node then runs
    /// without attachments.
    func register() {
        do {
            let bitswap = Bitswap(host: host, blockstore: try account.attachmentStorage.blockstore(logger: logger), logger: logger)
            bitswap.register()
            state.withLock { $0.bitswap = bitswap }
        } catch {
            logger.error("cannot open the block store; attachments are disabled", metadata: ["reason": "\(error)"])
        }
    }

    /// Makes every unfinished attachment due now and wakes the loop.
    public func wake() {
        state.withLock { $0.forced = true }
        doorbell.ring()
    }

    // MARK: Running

    /// Fetches until cancelled.
    func run() async {
        let events = host.events()
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in events {
                    if case .connected = event { self.wake() }
                }
            }
            await loop()
            group.cancelAll()
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            var nextDue: Date?
            do {
                nextDue = try await pass()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("attachment pass failed", metadata: ["reason": "\(error)"])
            }
            let options = state.withLock { state in
                state.passes += 1
                return state.options
            }
            await doorbell.wait(until: nextDue, now: account.now(), atMost: options.idleWakeInterval)
        }
    }

    /// One pass: records for new attachment messages, then every due fetch in turn. Returns
    /// when the next failed one is due.
    func pass() async throws -> Date? {
        account.attachmentStorage.retryDeferredCollection()
        let database = account.database
        for message in try await database.messagesWithoutAttachment(kind: .attachment) {
            try await adopt(message)
        }
        let forced = state.withLock { state in
            defer { state.forced = false }
            return state.forced
        }
        for record in try await database.dueAttachments(now: forced ? .distantFuture : account.now()) {
            guard !Task.isCancelled else { break }
            await fetch(record)
        }
        return try await database.nextAttachmentAttempt()
    }

    /// Makes the record of a received attachment message (`failed` at once if its body is bad).
    private func adopt(_ message: ChatMessage) async throws {
        let now = account.now()
        var record: AttachmentRecord
        do {
            let content = try AttachmentContent(parsing: message.body)
            record = AttachmentRecord(
                messageID: message.id, direction: .incoming, cid: content.cid, key: try content.blobKey.serialized,
                name: content.name, size: Int64(content.size), mediaType: content.mediaType, state: .pending,
                bytesTotal: Int64(try AttachmentLayout(fileSize: content.size).blobSize), now: now)
        } catch let error as ChatNodeError {
            record = AttachmentRecord(
                messageID: message.id, direction: .incoming, cid: "", key: Data(), name: AttachmentFileName.fallback, size: 0,
                mediaType: MediaType.fallback, state: .failed(error.message), now: now)
        }
        try await account.database.saveAttachment(record)
    }

    // MARK: One fetch

    /// A failure worth retrying (network, storage, file system).
    private struct TransientFailure: Error, CustomStringConvertible {
        var description: String
    }

    private func fetch(_ record: AttachmentRecord) async {
        let database = account.database
        let id = record.messageID
        let (bitswap, options) = state.withLock { ($0.bitswap, $0.options) }
        guard let bitswap else { return }
        do {
            let cid = try CID(parsing: record.cid)
            let key = try AttachmentKey(bytes: record.key)
            let layout = try AttachmentLayout(fileSize: UInt64(max(0, record.size)))
            guard let message = try await database.message(id: id), let senderID = message.senderContactID,
                  let sender = try await database.contact(id: senderID)
            else {
                throw ChatNodeError(.unknownContact, "the attachment's sender is no longer a contact")
            }
            try await database.setAttachmentState(messageID: id, .fetching, countsAttempt: true, now: account.now())
            host.peerStore.addAddresses(sender.addresses, for: sender.peerID)
            // Pinned first, so a collection keeps every block stored under the root; and none
            // runs while blocks arrive (one could miss a block stored after it walked the DAG).
            try await account.attachmentStorage.writingBlocks {
                try bitswap.blockstore.pin(root: cid)
                do {
                    try await fetchBlocks(cid, from: [sender.peerID], bitswap: bitswap, options: options, id: id, total: layout.blobSize)
                } catch {
                    guard !Task.isCancelled, try await fetchFromMailboxes(cid, sender: senderID, blockstore: bitswap.blockstore) else { throw error }
                }
            }
            let path = try writeFile(record, cid: cid, key: key, blockstore: bitswap.blockstore)
            try await database.setAttachmentState(messageID: id, .done, localPath: path, now: account.now())
            // The decrypted file is the user's copy; the blocks may be collected, unless another
            // attachment needs the same blob (one we sent, or one still being received).
            if let inUse = try? await account.attachmentBlobsInUse(among: [cid.description]), !inUse.contains(cid.description) {
                _ = try? bitswap.blockstore.unpin(root: cid)
            }
            logger.info("attachment fetched", metadata: ["message": "\(id)", "bytes": "\(record.size)"])
        } catch {
            if Task.isCancelled { return }  // left `fetching`: the next run picks it up
            await failed(record, error: error, options: options)
        }
    }

    private func fetchBlocks(
        _ cid: CID, from peers: [PeerID], bitswap: Bitswap, options: Options, id: MessageID, total: UInt64
    ) async throws {
        let database = account.database
        let (progress, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [account] in
                var written: UInt64 = 0
                for await bytes in progress where bytes >= written + options.progressStep {
                    written = bytes
                    try? await database.setAttachmentProgress(
                        messageID: id, done: Int64(min(bytes, total)), total: Int64(total), now: account.now())
                }
            }
            do {
                _ = try await bitswap.fetch(root: cid, from: peers, options: options.bitswap) { continuation.yield($0.bytes) }
                continuation.finish()
            } catch {
                continuation.finish()
                throw error
            }
            try await group.waitForAll()
        }
    }

    /// Fetches the blob's DAG from the first of our queues (the sender's first) that holds all
    /// of it, then acknowledges its blocks in every one of them. `false` if none holds it.
    private func fetchFromMailboxes(_ root: CID, sender: ContactID, blockstore: Blockstore) async throws -> Bool {
        guard let client = mailboxClient else { return false }
        let database = account.database
        let own = try await database.mailboxQueues(contactID: sender)
        let queues = own.isEmpty ? try await database.mailboxQueues() : own
        let credentials = queues.compactMap { try? QueueCredentials(parsing: Array($0.credentials)) }
        var cids: [CID]?
        for queue in credentials where cids == nil {
            do {
                let session = try await client.session(to: queue.mailbox)
                do {
                    cids = try await AttachmentMailboxBlocks.fetch(root: root, from: queue, over: session, into: blockstore)
                    await session.close()
                } catch {
                    await session.close()
                    throw error
                }
            } catch let error as IPFSError {
                throw error
            } catch {
                logger.debug("attachment not fetched from a mailbox", metadata: ["mailbox": "\(queue.mailbox)", "reason": "\(error)"])
            }
        }
        guard let cids else { return false }
        // Stored: now the mailboxes may delete them.
        for queue in credentials {
            do {
                try await client.acknowledgeBlocks(cids, in: queue)
            } catch {
                logger.debug("attachment blocks not acknowledged", metadata: ["mailbox": "\(queue.mailbox)", "reason": "\(error)"])
            }
        }
        logger.info("attachment fetched from a mailbox", metadata: ["attachment": "\(root)", "blocks": "\(cids.count)"])
        return true
    }

    /// Decrypts the fetched blob into a temporary file and renames it into place.
    private func writeFile(_ record: AttachmentRecord, cid: CID, key: AttachmentKey, blockstore: Blockstore) throws -> String {
        let directory = account.attachmentStorage.directory(for: record.messageID.description)
        let final = directory.appendingPathComponent(AttachmentFileName.sanitize(record.name), isDirectory: false)
        guard final.deletingLastPathComponent().standardizedFileURL.path == directory.standardizedFileURL.path else {
            throw ChatNodeError(.malformedInput, "attachment name \(record.name.prefix(64)) is not a plain file name")
        }
        let temporary = directory.appendingPathComponent(".partial-\(UInt64.random(in: 0...UInt64.max))", isDirectory: false)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw TransientFailure(description: "cannot create \(temporary.path)")
            }
        } catch let error as TransientFailure {
            throw error
        } catch {
            throw TransientFailure(description: "cannot create \(directory.path): \(error.localizedDescription)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var decryptor = try AttachmentDecryptor(key: key, fileSize: UInt64(record.size))
            let exporter = UnixFSExporter(blockSource: { cid in
                guard let bytes = try blockstore.get(cid) else {
                    throw IPFSError(.blockNotFound, "block \(cid) is not in the store")
                }
                return bytes
            })
            try exporter.exportFile(root: cid) { chunk in
                try decryptor.consume(chunk) { try handle.write(contentsOf: $0) }
            }
            try decryptor.finish()
            try handle.synchronize()
            if FileManager.default.fileExists(atPath: final.path) { try FileManager.default.removeItem(at: final) }
            try FileManager.default.moveItem(at: temporary, to: final)
            return final.path
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            switch error {
            case is ChatNodeError, is IPFSError, is IPLDError: throw error
            default: throw TransientFailure(description: "cannot write \(final.path): \(error.localizedDescription)")
            }
        }
    }

    private func failed(_ record: AttachmentRecord, error: any Error, options: Options) async {
        let attempts = record.attempts + 1
        let reason: String
        let permanent: Bool
        switch error {
        case let error as ChatNodeError:
            reason = error.message
            permanent = error.code == .malformedInput || error.code == .limitExceeded
        case let error as IPLDError:
            reason = "the attachment's DAG is malformed: \(error.message)"
            permanent = true
        case let error as IPFSError:
            reason = "\(error.code): \(error.message)"
            permanent = false
        case let error as TransientFailure:
            reason = error.description
            permanent = false
        default:
            reason = "\(error)"
            permanent = false
        }
        var next: Date?
        if !permanent && attempts < options.maximumAttempts {
            var generator = SystemRandomNumberGenerator()
            let delay = options.retryPolicy.delay(afterFailedAttempts: attempts, using: &generator)
            next = account.now().addingTimeInterval(RetryPolicy.seconds(delay))
        }
        logger.notice("attachment fetch failed", metadata: [
            "message": "\(record.messageID)", "reason": "\(reason)", "retry": "\(next.map { "\($0)" } ?? "no")",
        ])
        do {
            try await account.database.setAttachmentState(messageID: record.messageID, .failed(reason), nextAttemptAt: next, now: account.now())
        } catch {
            logger.warning("cannot record an attachment failure", metadata: ["message": "\(record.messageID)", "reason": "\(error)"])
        }
    }
}
