/// The random id of one mailbox queue: 24 bytes chosen by the mailbox at creation. It names
/// the queue and nothing else (no peer id, no key), so queues cannot be linked to people.
public struct QueueID: Hashable, Sendable, CustomStringConvertible {
    /// The length of a queue id.
    public static let length = 24

    /// The id's bytes.
    public let bytes: [UInt8]

    /// Wraps `bytes`, refusing any length but `QueueID.length`.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.length else {
            throw MailboxError(.malformed, "queue id must be \(Self.length) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// A fresh random queue id.
    public static func random() -> QueueID {
        var generator = SystemRandomNumberGenerator()
        // Force-unwrap is safe: the length is right by construction.
        return try! QueueID(bytes: (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Lowercase hex.
    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined()
    }
}
