import Foundation
import Multiformats

/// How a `ChatNode` runs.
public struct ChatNodeConfiguration: Sendable {
    /// Where to listen; `nil` listens on the port stored at `init` (`/ip4/127.0.0.1/tcp/<port>`).
    public var listenAddresses: [Multiaddr]?
    /// Whether to serve the home's control socket (`node.sock`); short-lived nodes don't.
    public var servesControlSocket = true
    /// Whether to tell contacts when our listen addresses differ from the stored ones.
    public var announcesAddressChanges = true
    /// Backoff for unreachable contacts.
    public var retryPolicy = RetryPolicy.default
    /// How long dialing a contact may take.
    public var dialTimeout: Duration = .seconds(5)
    /// How long the peer may take to acknowledge one envelope. A receiver stores and answers
    /// within milliseconds; a stalled stream is abandoned after this and retried with backoff.
    public var ackTimeout: Duration = .seconds(10)
    /// The longest the delivery loop sleeps without a reason (TTL checks).
    public var idleWakeInterval: Duration = .seconds(60)
    /// How many of a recipient's mailboxes receive a copy when it is unreachable (k = min(this, n)).
    public var mailboxReplicas = 2
    /// Whether to drain our mailbox queues at start and follow them live.
    public var receivesFromMailboxes = true
    /// Runs a command for each new incoming text message (`up --on-message`).
    public var messageHook: MessageCommandHook?

    /// The defaults.
    public init(listenAddresses: [Multiaddr]? = nil) {
        self.listenAddresses = listenAddresses
    }
}
