import Foundation
import IPFS
import Logging
import Synchronization

/// Where a home keeps attachments: the block store (`<home>/blocks/`, shared with Bitswap so
/// peers can fetch what we sent) and the decrypted files (`<home>/attachments/<message id>/`).
///
/// The block store opens on first use, once per account, so the node's Bitswap server and the
/// account's `sendFile` share one database pool in a process.
final class AttachmentStorage: Sendable {
    /// The directory of decrypted received files, inside the home.
    static let directoryName = "attachments"

    let home: URL
    private let opened = Mutex<Blockstore?>(nil)

    init(home: URL) {
        self.home = home
    }

    /// The home's block store, opened now (logging to `logger`) if it was not yet.
    func blockstore(logger: Logger = Logger(label: "p2pchat.attachments.blocks")) throws -> Blockstore {
        try opened.withLock { opened in
            if let opened { return opened }
            let store = try Blockstore(home: home, logger: logger)
            opened = store
            return store
        }
    }

    /// The directory for one message's file: `<home>/attachments/<message id>/`.
    func directory(for messageID: String) -> URL {
        home.appendingPathComponent(Self.directoryName, isDirectory: true).appendingPathComponent(messageID, isDirectory: true)
    }
}
