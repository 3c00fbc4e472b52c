import ChatStore
import Foundation

/// An attachment as commands and UIs show it: what it is, how far fetching it has come and
/// where the file is. Never carries the key.
public struct AttachmentSummary: Encodable, Hashable, Sendable {
    /// The name the sender gave.
    public var name: String
    /// The file's size in bytes.
    public var size: UInt64
    /// The media type.
    public var mediaType: String
    /// The root CID of the encrypted blob.
    public var cid: String
    /// `pending`, `fetching`, `done` or `failed`.
    public var state: String
    /// Why the last attempt failed, when `failed`.
    public var error: String?
    /// Whether a failed fetch will be tried again.
    public var retrying: Bool
    /// Bytes fetched of the blob, and the blob's size.
    public var bytesDone: Int64
    /// The encrypted blob's size.
    public var bytesTotal: Int64
    /// The local file: the decrypted copy (received, once done) or the original (sent).
    public var path: String?
    /// The caption sent with the file.
    public var text: String?

    /// The summary of a stored record (with the caption from its message).
    public init(_ record: AttachmentRecord, text: String?) {
        name = record.name
        size = UInt64(max(0, record.size))
        mediaType = record.mediaType
        cid = record.cid
        state = record.state.name
        if case .failed(let reason) = record.state { error = reason }
        retrying = record.nextAttemptAt != nil
        bytesDone = record.bytesDone
        bytesTotal = record.bytesTotal
        path = record.localPath
        self.text = text
    }

    /// The summary of a message whose record is not made yet.
    init(_ content: AttachmentContent) {
        name = content.name
        size = content.size
        mediaType = content.mediaType
        cid = content.cid
        state = AttachmentState.pending.name
        retrying = false
        bytesDone = 0
        bytesTotal = Int64((try? AttachmentLayout(fileSize: content.size).blobSize) ?? 0)
        text = content.text
    }

    /// Fetch progress, 0…1.
    public var fraction: Double {
        guard state != AttachmentState.done.name else { return 1 }
        guard bytesTotal > 0 else { return 0 }
        return min(1, Double(bytesDone) / Double(bytesTotal))
    }

    /// One line: `📎 name (size, type) state — path`.
    public var line: String {
        var status: String
        switch state {
        case AttachmentState.fetching.name: status = "fetching \(Int(fraction * 100))%"
        case "failed": status = "failed(\(error ?? "unknown"))\(retrying ? ", will retry" : "")"
        default: status = state
        }
        if let path, state == AttachmentState.done.name { status += " — \(path)" }
        return "📎 \(name) (\(Self.format(bytes: size)), \(mediaType)) \(status)"
    }

    /// `1.5 MiB`-style sizes.
    public static func format(bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
