import ChatCrypto
import Crypto

/// How an attachment of a given size is laid out as an encrypted blob (scheme
/// ``scheme``): the file is padded with zero bytes to its Padmé length (Nikitin et al.,
/// PETS 2019), which hides all but O(log log n) bits of the size; the padded bytes are cut into
/// ``chunkSize`` chunks, and chunk *i* is sealed with AES-256-GCM under the attachment key with
///
/// - nonce: 4 zero bytes ‖ *i* as u64 big-endian (the key is never reused across files), and
/// - associated data: ``associatedDataPrefix`` ‖ *i* as u64 ‖ 1 if it is the last chunk else 0 ‖
///   the file size as u64 (so the blob also authenticates where the padding starts),
///
/// and written as ciphertext ‖ 16-byte tag. A file of size 0 is one empty final chunk (just a
/// tag). Reordering chunks breaks the nonce, dropping the tail leaves a chunk without the final
/// flag, and the receiver knows the exact blob length from the (authenticated) size in the
/// message, so any truncation, extension, reordering or bit flip is refused.
public struct AttachmentLayout: Hashable, Sendable {
    /// The scheme name carried in ``AttachmentContent``.
    public static let scheme = "aes-256-gcm-chunked-64k-padme-v1"
    /// Plaintext bytes per chunk (the last may be shorter).
    public static let chunkSize = 64 * 1024
    /// The GCM tag length.
    public static let tagSize = 16
    /// The largest file accepted: 16 GiB.
    public static let maximumFileSize: UInt64 = 16 << 30
    /// Domain separation for the associated data.
    static let associatedDataPrefix = Array("p2pchat attachment v1".utf8)

    /// The file's size in bytes.
    public let fileSize: UInt64
    /// The size after Padmé padding.
    public let paddedSize: UInt64
    /// The number of chunks (at least one).
    public let chunkCount: UInt64

    /// The layout for a file of `fileSize` bytes; `.limitExceeded` above ``maximumFileSize``.
    public init(fileSize: UInt64) throws {
        guard fileSize <= Self.maximumFileSize else {
            throw ChatNodeError(.limitExceeded, "attachment of \(fileSize) bytes exceeds the limit of \(Self.maximumFileSize) bytes")
        }
        self.fileSize = fileSize
        paddedSize = UInt64(Padding.padme(Int(fileSize)))
        let chunk = UInt64(Self.chunkSize)
        chunkCount = max(1, (paddedSize + chunk - 1) / chunk)
    }

    /// The size of the encrypted blob.
    public var blobSize: UInt64 { paddedSize + chunkCount * UInt64(Self.tagSize) }

    /// Padded plaintext bytes in chunk `index`.
    func paddedCount(ofChunk index: UInt64) -> Int {
        let start = index * UInt64(Self.chunkSize)
        return Int(min(paddedSize, start + UInt64(Self.chunkSize)) - start)
    }

    /// File bytes (as opposed to padding) in chunk `index`.
    func fileCount(ofChunk index: UInt64) -> Int {
        let start = index * UInt64(Self.chunkSize)
        guard fileSize > start else { return 0 }
        return Int(min(fileSize - start, UInt64(paddedCount(ofChunk: index))))
    }

    /// Whether `index` is the last chunk.
    func isFinal(_ index: UInt64) -> Bool { index == chunkCount - 1 }

    static func nonce(forChunk index: UInt64) -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for shift in 0..<8 { bytes[4 + shift] = UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(shift))) }
        return try! AES.GCM.Nonce(data: bytes)  // 12 bytes is always a valid GCM nonce
    }

    /// The associated data of chunk `index`.
    func associatedData(forChunk index: UInt64) -> [UInt8] {
        var bytes = Self.associatedDataPrefix
        for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(shift)))) }
        bytes.append(isFinal(index) ? 1 : 0)
        for shift in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: fileSize >> (56 - 8 * UInt64(shift)))) }
        return bytes
    }
}
