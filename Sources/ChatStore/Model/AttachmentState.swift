/// Where a received attachment is: `pending → fetching → done`, or `failed(reason)` (retried
/// while the record has a next attempt time). Sent attachments are `done` from the start.
public enum AttachmentState: Hashable, Sendable, CustomStringConvertible {
    /// Known from its message, not fetched yet.
    case pending
    /// Blocks are being fetched or the file is being decrypted.
    case fetching
    /// The decrypted file is at the record's local path.
    case done
    /// The last attempt failed for `reason`.
    case failed(String)

    /// The stored name of the state.
    public var name: String {
        switch self {
        case .pending: "pending"
        case .fetching: "fetching"
        case .done: "done"
        case .failed: "failed"
        }
    }

    public var description: String {
        if case .failed(let reason) = self { return "failed(\(reason))" }
        return name
    }

    /// Reads `state` and `failure` column values; unknown names are `nil`.
    init?(name: String, failure: String?) {
        switch name {
        case "pending": self = .pending
        case "fetching": self = .fetching
        case "done": self = .done
        case "failed": self = .failed(failure ?? "unknown")
        default: return nil
        }
    }

    /// The failure reason, if failed.
    var failure: String? {
        if case .failed(let reason) = self { return reason }
        return nil
    }
}
