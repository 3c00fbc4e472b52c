import ChatCrypto
import Crypto
import Foundation
import Multiformats
import Testing

@testable import ChatNode

/// Deterministic pseudo-random bytes (fast, reproducible file contents).
func patternBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
    }
    return bytes
}

@Suite("Attachment stream encryption")
struct AttachmentCipherTests {
    static let chunk = AttachmentLayout.chunkSize
    static let sealedChunk = AttachmentLayout.chunkSize + AttachmentLayout.tagSize

    @Test("round trip at 0, 1, 64 KiB ± 1 and several MiB, fed whole and in odd pieces", arguments: [0, 1, chunk - 1, chunk, chunk + 1, 3 * 1024 * 1024 + 7])
    func roundTrip(size: Int) throws {
        let file = patternBytes(size, seed: UInt64(size) + 1)
        let key = AttachmentKey.generate()
        let blob = try AttachmentEncryptor.encrypt(file, key: key)
        let layout = try AttachmentLayout(fileSize: UInt64(size))
        #expect(blob.count == Int(layout.blobSize))
        #expect(layout.paddedSize == UInt64(Padding.padme(size)))
        #expect(try AttachmentDecryptor.decrypt(blob, key: key, fileSize: UInt64(size)) == file)

        var decryptor = try AttachmentDecryptor(key: key, fileSize: UInt64(size))
        var out: [UInt8] = []
        var offset = 0
        while offset < blob.count {
            let end = min(blob.count, offset + 40_009)
            try decryptor.consume(Array(blob[offset..<end])) { out += $0 }
            offset = end
        }
        try decryptor.finish()
        #expect(out == file)
    }

    @Test("the blob hides the exact size (Padmé) and never repeats for the same file")
    func padding() throws {
        let file = patternBytes(1_000_000)
        let first = try AttachmentEncryptor.encrypt(file, key: .generate())
        let second = try AttachmentEncryptor.encrypt(file, key: .generate())
        #expect(first != second)
        #expect(try AttachmentLayout(fileSize: 1_000_000).paddedSize == UInt64(Padding.padme(1_000_000)))
        #expect(try AttachmentLayout(fileSize: 1_000_000).paddedSize > 1_000_000)
        #expect(try AttachmentLayout(fileSize: 999_990).blobSize == AttachmentLayout(fileSize: 1_000_000).blobSize)
    }

    @Test("a flipped bit, a wrong key, a reordered, dropped or extra chunk are refused")
    func tampering() throws {
        let size = 3 * Self.chunk + 100
        let file = patternBytes(size)
        let key = AttachmentKey.generate()
        let blob = try AttachmentEncryptor.encrypt(file, key: key)
        let fileSize = UInt64(size)

        var flipped = blob
        flipped[Self.sealedChunk + 5] ^= 0x01
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(flipped, key: key, fileSize: fileSize) }

        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(blob, key: .generate(), fileSize: fileSize) }

        var reordered = Array(blob[Self.sealedChunk..<2 * Self.sealedChunk])
        reordered += blob[0..<Self.sealedChunk]
        reordered += blob[(2 * Self.sealedChunk)...]
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(reordered, key: key, fileSize: fileSize) }

        let truncated = Array(blob[0..<(3 * Self.sealedChunk)])
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(truncated, key: key, fileSize: fileSize) }
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(Array(blob.dropLast()), key: key, fileSize: fileSize) }
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(blob + [0], key: key, fileSize: fileSize) }

        // A wrong size claim, even one with the same padded length, is refused: the size is
        // part of every chunk's associated data.
        #expect(try AttachmentLayout(fileSize: fileSize + 200).blobSize == AttachmentLayout(fileSize: fileSize).blobSize)
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(blob, key: key, fileSize: fileSize - 1) }
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(blob, key: key, fileSize: fileSize + 200) }
    }

    @Test("a prefix of whole chunks is refused even when claimed as the whole file (final flag)")
    func finalFlag() throws {
        let key = AttachmentKey.generate()
        let blob = try AttachmentEncryptor.encrypt(patternBytes(2 * Self.chunk), key: key)
        #expect(try AttachmentLayout(fileSize: UInt64(Self.chunk)).blobSize == UInt64(Self.sealedChunk))
        let firstChunk = Array(blob[0..<Self.sealedChunk])
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(firstChunk, key: key, fileSize: UInt64(Self.chunk)) }
    }

    @Test("non-zero padding is refused even when it authenticates")
    func nonZeroPadding() throws {
        let key = AttachmentKey.generate()
        let size = 1000
        let layout = try AttachmentLayout(fileSize: UInt64(size))
        #expect(layout.paddedSize > UInt64(size))
        var plaintext = patternBytes(Int(layout.paddedSize))
        plaintext[Int(layout.paddedSize) - 1] = 0xFF
        let box = try AES.GCM.seal(
            plaintext, using: key.key, nonce: AttachmentLayout.nonce(forChunk: 0),
            authenticating: layout.associatedData(forChunk: 0))
        let blob = [UInt8](box.ciphertext) + [UInt8](box.tag)
        #expect(throws: ChatNodeError.self) { try AttachmentDecryptor.decrypt(blob, key: key, fileSize: UInt64(size)) }
    }

    @Test("keys of the wrong length and oversized files are refused")
    func limits() throws {
        #expect(throws: ChatNodeError.self) { try AttachmentKey(bytes: [UInt8](repeating: 1, count: 16)) }
        #expect(throws: ChatNodeError.self) { try AttachmentLayout(fileSize: AttachmentLayout.maximumFileSize + 1) }
        let key = AttachmentKey.generate()
        #expect(try AttachmentKey(bytes: key.serialized).serialized == key.serialized)
    }
}

@Suite("Attachment names, media types and content")
struct AttachmentNameTests {
    @Test("names from peers become one safe path component")
    func sanitize() {
        #expect(AttachmentFileName.sanitize("../../etc/passwd") == "passwd")
        #expect(AttachmentFileName.sanitize("..\\..\\windows\\system.ini") == "system.ini")
        #expect(AttachmentFileName.sanitize("..") == "attachment")
        #expect(AttachmentFileName.sanitize(".") == "attachment")
        #expect(AttachmentFileName.sanitize("") == "attachment")
        #expect(AttachmentFileName.sanitize("dir/") == "attachment")
        #expect(AttachmentFileName.sanitize(".bashrc") == "bashrc")
        #expect(AttachmentFileName.sanitize("a\u{0}b\nc\u{202E}d.txt") == "a_b_c_d.txt")
        #expect(AttachmentFileName.sanitize("photo.jpg") == "photo.jpg")
        #expect(AttachmentFileName.sanitize("  report final.pdf  ") == "report final.pdf")
        let long = String(repeating: "é", count: 300) + ".tar.gz"
        let cut = AttachmentFileName.sanitize(long)
        #expect(cut.utf8.count <= AttachmentFileName.maximumLength)
        #expect(cut.hasSuffix(".gz"))
    }

    @Test("media types follow the extension")
    func mediaTypes() {
        #expect(MediaType.guess(fileName: "a.PNG") == "image/png")
        #expect(MediaType.guess(fileName: "doc.pdf") == "application/pdf")
        #expect(MediaType.guess(fileName: "noext") == MediaType.fallback)
        #expect(MediaType.guess(fileName: ".hidden") == MediaType.fallback)
    }

    @Test("content round-trips and bad bodies are refused")
    func content() throws {
        let cid = CID.v1(codec: .raw, multihash: .sha256([1, 2, 3]))
        let key = AttachmentKey.generate()
        let content = AttachmentContent(cid: cid, key: key, name: "a.txt", size: 5, mediaType: "text/plain", text: "hi")
        let parsed = try AttachmentContent(parsing: content.body)
        #expect(parsed == content)
        #expect(try parsed.blobKey.serialized == key.serialized)
        var bad = content
        bad.key = Data([1, 2, 3]).base64EncodedString()
        #expect(throws: ChatNodeError.self) { try AttachmentContent(parsing: bad.body) }
        bad = content
        bad.scheme = "rot13"
        #expect(throws: ChatNodeError.self) { try AttachmentContent(parsing: bad.body) }
        bad = content
        bad.cid = "not a cid"
        #expect(throws: ChatNodeError.self) { try AttachmentContent(parsing: bad.body) }
        #expect(throws: ChatNodeError.self) { try AttachmentContent(parsing: "{}") }
    }
}
