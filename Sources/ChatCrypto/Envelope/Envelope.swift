/// What leaves the device (crypto.md §8.5, simplified: no Sphinx layer yet).
///
/// Layout, always exactly one of `bucketSizes` bytes long:
/// ```
/// version u8 (=1) | kind u8 (1 = prekey message, 2 = ratchet message) | ciphertext
/// prekey:  ciphertext = HPKE enc (32 X25519 | 65 P-256) ‖ HPKE-sealed PreKeyMessage
/// ratchet: ciphertext = hdr_nonce(12) ‖ Enc_HK(dh_pub ‖ PN u32 ‖ N u32)+16 ‖ body_nonce(12) ‖ Enc_MK(content ‖ 0x80 00…)+16
/// ```
/// The content is padded inside the encryption so the whole envelope fills its bucket; nothing
/// about sender, conversation or time is visible outside.
public struct Envelope: Hashable, Sendable {
    /// Current envelope version.
    public static let version: UInt8 = 1
    /// Smallest bucket: fits one 2 KiB onion-packet payload.
    public static let smallBucketSize = 2048
    /// Second bucket.
    public static let mediumBucketSize = 4096
    /// Third bucket.
    public static let largeBucketSize = 16384
    /// Largest bucket; bigger contents are refused with `.messageTooLarge`.
    public static let maximumBucketSize = 65536
    /// All envelope sizes, ascending.
    public static let bucketSizes = [smallBucketSize, mediumBucketSize, largeBucketSize, maximumBucketSize]
    /// Bytes before the ciphertext.
    static let headerLength = 2

    /// Whether an envelope starts a session or continues one.
    public enum Kind: UInt8, Hashable, Sendable {
        /// HPKE-sealed `PreKeyMessage` for the recipient's identity DH key.
        case preKeyMessage = 1
        /// A Double Ratchet message of an existing session.
        case ratchetMessage = 2
    }

    public let kind: Kind
    /// Everything after the two header bytes.
    public let ciphertext: [UInt8]

    init(kind: Kind, ciphertext: [UInt8]) {
        self.kind = kind
        self.ciphertext = ciphertext
    }

    /// The wire bytes.
    public var encoded: [UInt8] { [Self.version, kind.rawValue] + ciphertext }

    /// The associated data binding the outer header into the inner AEADs.
    var outerHeader: [UInt8] { [Self.version, kind.rawValue] }

    /// Parses wire bytes; the length must be one of `bucketSizes`.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumBucketSize else {
            throw ChatCryptoError(.lengthExceeded, "envelope of \(bytes.count) bytes exceeds \(Self.maximumBucketSize)")
        }
        guard bytes.count >= Self.headerLength else { throw ChatCryptoError(.truncated, "envelope of \(bytes.count) bytes") }
        guard bytes[0] == Self.version else {
            throw ChatCryptoError(.unsupportedVersion, "envelope version \(bytes[0]); expected \(Self.version)")
        }
        guard let kind = Kind(rawValue: bytes[1]) else {
            throw ChatCryptoError(.malformedInput, "unknown envelope kind \(bytes[1])")
        }
        guard Self.bucketSizes.contains(bytes.count) else {
            throw ChatCryptoError(.truncated, "envelope of \(bytes.count) bytes is not a bucket size \(Self.bucketSizes)")
        }
        self.kind = kind
        self.ciphertext = Array(bytes[Self.headerLength...])
    }

    /// The padded content length that makes an envelope with `overhead` bytes around the content
    /// fill the smallest bucket that holds `contentLength` plus the padding marker.
    static func paddedContentLength(contentLength: Int, overhead: Int) throws -> Int {
        for bucket in bucketSizes where bucket - overhead >= contentLength + 1 {
            return bucket - overhead
        }
        throw ChatCryptoError(
            .messageTooLarge,
            "content of \(contentLength) bytes does not fit the largest \(maximumBucketSize)-byte envelope (overhead \(overhead)); split or send as an attachment")
    }
}
