import Foundation

/// What a contact puts in our Storacha space: a sealed envelope behind a magic and the
/// contact's deposit tag, so a drain knows whose session opens it and leaves other blobs in
/// the space alone (ARCHITECTURE.md Delivery §3).
///
/// Bytes: `"p2d"` `01` ‖ tag (16) ‖ envelope. The tag is random per contact and space, sent
/// only inside the session; the envelope authenticates the sender when it opens (a wrong tag
/// only makes it fail to open).
public struct StorachaDrop: Hashable, Sendable {
    /// The magic and format version.
    public static let magic: [UInt8] = [0x70, 0x32, 0x64, 0x01]
    /// The tag length.
    public static let tagLength = 16
    /// The largest drop read from a space, in bytes (envelopes are far smaller).
    public static let maximumLength = 1 << 20

    /// The depositor's tag.
    public var tag: Data
    /// The sealed envelope.
    public var envelope: Data

    /// A drop of `envelope` under `tag`.
    public init(tag: Data, envelope: Data) {
        self.tag = tag
        self.envelope = envelope
    }

    /// Parses blob bytes; `.malformedInput` when they are not a drop.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumLength else {
            throw ChatNodeError(.limitExceeded, "blob of \(bytes.count) bytes exceeds \(Self.maximumLength) (not a drop)")
        }
        guard bytes.count > Self.magic.count + Self.tagLength, bytes.starts(with: Self.magic) else {
            throw ChatNodeError(.malformedInput, "blob is not a p2pchat drop")
        }
        tag = Data(bytes[Self.magic.count..<Self.magic.count + Self.tagLength])
        envelope = Data(bytes[(Self.magic.count + Self.tagLength)...])
    }

    /// The blob bytes.
    public var encoded: [UInt8] { Self.magic + Array(tag) + Array(envelope) }
}
