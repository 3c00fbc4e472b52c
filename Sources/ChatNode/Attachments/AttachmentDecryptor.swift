import Crypto
import Foundation

/// Opens an encrypted blob (``AttachmentLayout``) as it streams in, emitting only the file's
/// bytes.
///
/// Push-based: feed ciphertext in pieces of any size with ``consume(_:into:)``, then call
/// ``finish()``. Each chunk is authenticated before any of its bytes are emitted; the padding
/// must be zeros; bytes past the expected blob length, a chunk that does not authenticate
/// (wrong key, bit flip, reordering, a non-final chunk in the last position) and a blob that
/// ends early are all `.malformedInput`. A caller that writes the emitted bytes to a file must
/// discard the file unless ``finish()`` returns.
public struct AttachmentDecryptor: Sendable {
    /// The blob's layout.
    public let layout: AttachmentLayout
    let key: AttachmentKey
    private var nextIndex: UInt64 = 0
    private var buffer: [UInt8] = []

    /// A decryptor for the blob of a file of `fileSize` bytes (the size from the message).
    public init(key: AttachmentKey, fileSize: UInt64) throws {
        self.key = key
        self.layout = try AttachmentLayout(fileSize: fileSize)
    }

    /// Whether every chunk has been opened.
    public var isFinished: Bool { nextIndex == layout.chunkCount }

    /// Takes the next ciphertext bytes and passes every file byte they complete to `sink`.
    public mutating func consume(_ ciphertext: [UInt8], into sink: ([UInt8]) throws -> Void) throws {
        buffer.append(contentsOf: ciphertext)
        while !isFinished {
            let sealedCount = layout.paddedCount(ofChunk: nextIndex) + AttachmentLayout.tagSize
            guard buffer.count >= sealedCount else { break }
            let file = try open(Array(buffer[0..<sealedCount]), index: nextIndex)
            buffer.removeFirst(sealedCount)
            nextIndex += 1
            if !file.isEmpty { try sink(file) }
        }
        if isFinished && !buffer.isEmpty {
            throw ChatNodeError(.malformedInput, "attachment blob is longer than the \(layout.blobSize) bytes its size implies")
        }
    }

    /// Checks that the whole blob arrived.
    public func finish() throws {
        guard isFinished, buffer.isEmpty else {
            throw ChatNodeError(.malformedInput, "attachment blob is truncated: \(nextIndex) of \(layout.chunkCount) chunks arrived")
        }
    }

    private func open(_ sealed: [UInt8], index: UInt64) throws -> [UInt8] {
        let tagStart = sealed.count - AttachmentLayout.tagSize
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AttachmentLayout.nonce(forChunk: index), ciphertext: sealed[..<tagStart], tag: sealed[tagStart...])
            plaintext = try AES.GCM.open(
                box, using: key.key,
                authenticating: layout.associatedData(forChunk: index))
        } catch {
            throw ChatNodeError(
                .malformedInput,
                "attachment chunk \(index) does not authenticate: wrong key, or corrupted, reordered or truncated data",
                underlying: error)
        }
        let fileCount = layout.fileCount(ofChunk: index)
        guard plaintext.dropFirst(fileCount).allSatisfy({ $0 == 0 }) else {
            throw ChatNodeError(.malformedInput, "attachment chunk \(index) has non-zero padding")
        }
        return [UInt8](plaintext.prefix(fileCount))
    }

    /// Decrypts an in-memory blob in one go (tests and small files).
    public static func decrypt(_ blob: [UInt8], key: AttachmentKey, fileSize: UInt64) throws -> [UInt8] {
        var decryptor = try AttachmentDecryptor(key: key, fileSize: fileSize)
        var file: [UInt8] = []
        try decryptor.consume(blob) { file += $0 }
        try decryptor.finish()
        return file
    }
}
