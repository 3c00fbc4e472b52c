import Foundation
import Logging
import Synchronization

/// `up --on-message CMD`: runs a local command for every new incoming text message (desktop
/// notifications; ARCHITECTURE.md Mailboxes, push).
///
/// The command runs as `/bin/sh -c CMD` with `P2PCHAT_SENDER` (the contact's name),
/// `P2PCHAT_SENDER_PEER_ID` and `P2PCHAT_MESSAGE_ID` in its environment; the message body is
/// never put on a command line. `notify` only appends to a bounded buffer, so delivery never
/// waits for the command; `run()` executes at most `concurrency` commands at a time, drops
/// notifications when the buffer is full, and logs failures.
public final class MessageCommandHook: Sendable {
    /// One new message.
    public struct Event: Sendable, Hashable {
        /// The contact's display name.
        public var sender: String
        /// The contact's PeerID.
        public var senderPeerID: String
        /// The message id (hex).
        public var messageID: String
    }

    /// Notifications buffered before new ones are dropped.
    public static let bufferLimit = 1000

    /// The shell command.
    public let command: String
    /// Commands running at once at most.
    public let concurrency: Int
    let logger: Logger
    private let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let counters = Mutex<(started: Int, failed: Int, dropped: Int)>((0, 0, 0))

    /// A hook running `command` with at most `concurrency` commands at once.
    public init(command: String, concurrency: Int = 4, logger: Logger) {
        self.command = command
        self.concurrency = max(1, concurrency)
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(Self.bufferLimit))
    }

    /// Queues a notification; never blocks.
    public func notify(_ event: Event) {
        if case .dropped = continuation.yield(event) {
            counters.withLock { $0.dropped += 1 }
            logger.warning("on-message command backlog full; notification dropped", metadata: ["message": "\(event.messageID)"])
        }
    }

    /// Commands started, failed (non-zero exit or not startable) and notifications dropped.
    public var statistics: (started: Int, failed: Int, dropped: Int) { counters.withLock { $0 } }

    /// Runs commands until cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        for await event in self.events {
                            await self.execute(event)
                        }
                    }
                }
            }
        } onCancel: {
            continuation.finish()
        }
    }

    private func execute(_ event: Event) async {
        counters.withLock { $0.started += 1 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        environment["P2PCHAT_SENDER"] = event.sender
        environment["P2PCHAT_SENDER_PEER_ID"] = event.senderPeerID
        environment["P2PCHAT_MESSAGE_ID"] = event.messageID
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = await withCheckedContinuation { done in
            process.terminationHandler = { finished in done.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                logger.warning("on-message command cannot start", metadata: ["reason": "\(error)"])
                done.resume(returning: -1)
            }
        }
        if status != 0 {
            counters.withLock { $0.failed += 1 }
            logger.warning("on-message command failed", metadata: ["status": "\(status)", "message": "\(event.messageID)"])
        }
    }
}
