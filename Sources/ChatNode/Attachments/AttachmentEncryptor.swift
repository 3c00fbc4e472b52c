import Crypto
import Foundation

/// Seals a file chunk by chunk into the encrypted blob described by ``AttachmentLayout``.
///
/// Pull-based so that memory stays constant: ask ``nextFileByteCount`` bytes of the file, pass
/// them to ``sealNextChunk(_:)``, repeat until ``isFinished``.
public struct AttachmentEncryptor: Sendable {
    /// The blob's layout.
    public let layout: AttachmentLayout
    let key: AttachmentKey
    /// The next chunk's index.
    public private(set) var nextIndex: UInt64 = 0

    /// An encryptor for a file of `fileSize` bytes.
    public init(key: AttachmentKey, fileSize: UInt64) throws {
        self.key = key
        self.layout = try AttachmentLayout(fileSize: fileSize)
    }

    /// Whether every chunk has been sealed.
    public var isFinished: Bool { nextIndex == layout.chunkCount }

    /// How many file bytes the next chunk takes (0 once only padding is left, or when finished).
    public var nextFileByteCount: Int { isFinished ? 0 : layout.fileCount(ofChunk: nextIndex) }

    /// Seals the next chunk: `fileBytes` (exactly ``nextFileByteCount`` bytes) plus its padding.
    /// Returns ciphertext ‖ tag.
    public mutating func sealNextChunk(_ fileBytes: [UInt8]) throws -> [UInt8] {
        guard !isFinished else {
            throw ChatNodeError(.malformedInput, "attachment encryptor: every chunk is already sealed")
        }
        guard fileBytes.count == nextFileByteCount else {
            throw ChatNodeError(.malformedInput, "attachment chunk \(nextIndex) needs \(nextFileByteCount) file bytes, got \(fileBytes.count)")
        }
        var plaintext = fileBytes
        let padding = layout.paddedCount(ofChunk: nextIndex) - fileBytes.count
        if padding > 0 { plaintext.append(contentsOf: repeatElement(0, count: padding)) }
        let index = nextIndex
        let box = try AES.GCM.seal(
            plaintext, using: key.key, nonce: AttachmentLayout.nonce(forChunk: index),
            authenticating: layout.associatedData(forChunk: index))
        nextIndex += 1
        var sealed = [UInt8](box.ciphertext)
        sealed.append(contentsOf: box.tag)
        return sealed
    }

    /// Encrypts an in-memory file in one go (tests and small files).
    public static func encrypt(_ file: [UInt8], key: AttachmentKey) throws -> [UInt8] {
        var encryptor = try AttachmentEncryptor(key: key, fileSize: UInt64(file.count))
        var blob: [UInt8] = []
        blob.reserveCapacity(Int(encryptor.layout.blobSize))
        var offset = 0
        while !encryptor.isFinished {
            let count = encryptor.nextFileByteCount
            blob += try encryptor.sealNextChunk(Array(file[offset..<offset + count]))
            offset += count
        }
        return blob
    }
}
