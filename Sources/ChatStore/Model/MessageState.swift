/// The delivery state of a message (ARCHITECTURE.md §States):
/// `queued → sent | stored(k/n) → delivered → read`, or `failed(reason)`.
///
/// Incoming messages are `delivered` once stored and `read` once the user has seen them.
public enum MessageState: Hashable, Sendable, CustomStringConvertible {
    /// Accepted by `send`, in the outbox, not yet handed to anyone.
    case queued
    /// Handed to the recipient over a direct stream; no delivery receipt yet.
    case sent
    /// Deposited in `copies` of the recipient's `total` mailboxes; no delivery receipt yet.
    case stored(copies: Int, total: Int)
    /// The recipient stored it (an end-to-end delivery receipt, never a mailbox's word).
    case delivered
    /// The recipient read it.
    case read
    /// Given up on, e.g. after the TTL.
    case failed(FailureReason)

    /// The state without its associated values, for grouping and counting.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        case queued, sent, stored, delivered, read, failed
    }

    /// The state's kind.
    public var kind: Kind {
        switch self {
        case .queued: .queued
        case .sent: .sent
        case .stored: .stored
        case .delivered: .delivered
        case .read: .read
        case .failed: .failed
        }
    }

    /// Whether the message still needs delivering (it belongs in the outbox).
    public var isPending: Bool {
        switch self {
        case .queued, .sent, .stored: true
        case .delivered, .read, .failed: false
        }
    }

    public var description: String {
        switch self {
        case .stored(let copies, let total): "stored \(copies)/\(total)"
        case .failed(let reason): "failed (\(reason))"
        default: kind.rawValue
        }
    }

    /// Progress order: queued 0, sent/stored 1, delivered 2, read 3 (failed has none).
    private var rank: Int? {
        switch self {
        case .queued: 0
        case .sent, .stored: 1
        case .delivered: 2
        case .read: 3
        case .failed: nil
        }
    }

    /// Whether moving from this state to `next` is progress (the monotonic rules):
    /// never backwards (`delivered` never becomes `sent`); `sent` and `stored` may replace each
    /// other and `stored` may gain copies; `failed` only from a pending state; a `failed`
    /// message may still become `delivered` or `read` when a receipt proves it arrived.
    public func canAdvance(to next: MessageState) -> Bool {
        switch (self, next) {
        case (.failed, .delivered), (.failed, .read):
            return true
        case (.failed, _):
            return false
        case (_, .failed):
            return isPending
        case (.stored(let copies, _), .stored(let newCopies, _)):
            return newCopies > copies
        case (.sent, .stored), (.stored, .sent):
            return true
        default:
            guard let from = rank, let to = next.rank else { return false }
            return to > from
        }
    }
}
