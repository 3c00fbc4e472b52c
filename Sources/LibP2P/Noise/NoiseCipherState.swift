import Crypto
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Noise CipherState: a cipher key `k` and a 64-bit nonce `n` (Noise spec rev 34 §5.1).
///
/// During the handshake the ``NoiseSymmetricState`` owns one; ``NoiseXXHandshake/split()``
/// hands out two for the transport phase, where the `ByteBuffer` methods avoid intermediate
/// arrays on the hot path.
public struct NoiseCipherState: Sendable {
    /// The length of the authentication tag appended to every ciphertext (Noise spec §5.1).
    public static let tagLength = 16
    /// The length of a cipher key in bytes (Noise spec §4.2, §12.3).
    public static let keyLength = 32
    /// The reserved nonce 2^64-1: encrypting or decrypting with it throws (Noise spec §5.1).
    public static let reservedNonce = UInt64.max

    /// The cipher key `k`, or `nil` while it is empty (Noise spec §5.1).
    public private(set) var key: SymmetricKey?
    /// The nonce `n` that the next encryption or decryption uses (Noise spec §5.1).
    public private(set) var nonce: UInt64
    /// The AEAD cipher function.
    public let cipher: NoiseCipherSuite.Cipher

    /// InitializeKey(key): a cipher state with key `k` (or empty) and `n = 0` (Noise spec §5.1).
    public init(key: SymmetricKey? = nil, cipher: NoiseCipherSuite.Cipher = .chaChaPoly) {
        precondition(key == nil || key!.bitCount == Self.keyLength * 8, "Noise cipher keys are 32 bytes")
        self.key = key
        self.nonce = 0
        self.cipher = cipher
    }

    /// HasKey(): whether `k` is non-empty (Noise spec §5.1).
    public var hasKey: Bool { key != nil }

    /// SetNonce(nonce) (Noise spec §5.1); used by tests and by rekeying-free resumption.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// EncryptWithAD(ad, plaintext) (Noise spec §5.1): `ENCRYPT(k, n++, ad, plaintext)` if `k` is
    /// set, else the plaintext unchanged.
    public mutating func encryptWithAD(_ ad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard key != nil else { return plaintext }
        var output: [UInt8] = []
        output.reserveCapacity(plaintext.count + Self.tagLength)
        try plaintext.withUnsafeBytes { plaintext in
            try seal(plaintext, ad: ad) { ciphertext, tag in
                output.append(contentsOf: ciphertext)
                output.append(contentsOf: tag)
            }
        }
        return output
    }

    /// DecryptWithAD(ad, ciphertext) (Noise spec §5.1): `DECRYPT(k, n++, ad, ciphertext)` if `k`
    /// is set, else the ciphertext unchanged. A failed authentication leaves `n` unchanged and
    /// throws ``LibP2PError/Code/decryptionFailed``.
    public mutating func decryptWithAD(_ ad: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        guard key != nil else { return ciphertext }
        return try ciphertext.withUnsafeBytes { ciphertext in
            try open(ciphertext, ad: ad) { plaintext in Array(plaintext) }
        }
    }

    /// Transport-phase encryption (Noise spec §5.1 EncryptWithAD with empty `ad`): appends the
    /// ciphertext and tag for the readable bytes of `plaintext` to `output`.
    ///
    /// Throws if the key is empty, since sending plaintext is never right after the handshake.
    public mutating func encrypt(_ plaintext: ByteBuffer, appendingTo output: inout ByteBuffer) throws {
        guard key != nil else {
            throw LibP2PError(.handshakeFailed, "Noise transport cipher has no key")
        }
        try plaintext.withUnsafeReadableBytes { plaintext in
            try seal(plaintext, ad: []) { ciphertext, tag in
                output.writeBytes(ciphertext)
                output.writeBytes(tag)
            }
        }
    }

    /// Transport-phase decryption (Noise spec §5.1 DecryptWithAD with empty `ad`): authenticates
    /// the readable bytes of `ciphertext` (ciphertext ‖ tag) and appends the plaintext to `output`.
    public mutating func decrypt(_ ciphertext: ByteBuffer, appendingTo output: inout ByteBuffer) throws {
        guard key != nil else {
            throw LibP2PError(.handshakeFailed, "Noise transport cipher has no key")
        }
        try ciphertext.withUnsafeReadableBytes { ciphertext in
            try open(ciphertext, ad: []) { (plaintext) -> Void in output.writeBytes(plaintext) }
        }
    }

    /// Transport-phase decryption returning a fresh buffer with the plaintext.
    public mutating func decrypt(_ ciphertext: ByteBuffer) throws -> ByteBuffer {
        var output = ByteBufferAllocator().buffer(capacity: max(0, ciphertext.readableBytes - Self.tagLength))
        try decrypt(ciphertext, appendingTo: &output)
        return output
    }

    // MARK: - ENCRYPT / DECRYPT (Noise spec §4.2, §12.3, §12.4)

    /// ENCRYPT(k, n, ad, plaintext), then n += 1. Hands the ciphertext and tag to `body` without
    /// copying them out of swift-crypto's sealed box.
    private mutating func seal(
        _ plaintext: UnsafeRawBufferPointer,
        ad: [UInt8],
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard let key else { preconditionFailure("seal without a key") }
        guard nonce != Self.reservedNonce else {
            throw LibP2PError(.limitExceeded, "Noise nonce exhausted (2^64-1 is reserved)")
        }
        do {
            switch cipher {
            case .chaChaPoly:
                let box = try ChaChaPoly.seal(plaintext, using: key, nonce: chaChaNonce(), authenticating: ad)
                try box.ciphertext.withUnsafeBytes { ciphertext in
                    try box.tag.withUnsafeBytes { tag in try body(ciphertext, tag) }
                }
            case .aesGCM:
                let box = try AES.GCM.seal(plaintext, using: key, nonce: aesGCMNonce(), authenticating: ad)
                try box.ciphertext.withUnsafeBytes { ciphertext in
                    try box.tag.withUnsafeBytes { tag in try body(ciphertext, tag) }
                }
            }
        } catch let error as LibP2PError {
            throw error
        } catch {
            throw LibP2PError(.decryptionFailed, "Noise encryption failed", underlying: error)
        }
        nonce += 1
    }

    /// DECRYPT(k, n, ad, ciphertext), then n += 1 on success only (Noise spec §5.1).
    private mutating func open<Result>(
        _ ciphertextAndTag: UnsafeRawBufferPointer,
        ad: [UInt8],
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        guard let key else { preconditionFailure("open without a key") }
        guard ciphertextAndTag.count >= Self.tagLength else {
            throw LibP2PError(.decryptionFailed, "Noise ciphertext shorter than its 16-byte tag")
        }
        guard nonce != Self.reservedNonce else {
            throw LibP2PError(.limitExceeded, "Noise nonce exhausted (2^64-1 is reserved)")
        }
        let split = ciphertextAndTag.count - Self.tagLength
        let ciphertext = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[..<split])
        let tag = UnsafeRawBufferPointer(rebasing: ciphertextAndTag[split...])
        let plaintext: Data
        do {
            switch cipher {
            case .chaChaPoly:
                let box = try ChaChaPoly.SealedBox(nonce: chaChaNonce(), ciphertext: ciphertext, tag: tag)
                plaintext = try ChaChaPoly.open(box, using: key, authenticating: ad)
            case .aesGCM:
                let box = try AES.GCM.SealedBox(nonce: aesGCMNonce(), ciphertext: ciphertext, tag: tag)
                plaintext = try AES.GCM.open(box, using: key, authenticating: ad)
            }
        } catch {
            throw LibP2PError(.decryptionFailed, "Noise message failed authentication", underlying: error)
        }
        let result = try plaintext.withUnsafeBytes { try body($0) }
        nonce += 1
        return result
    }

    /// ChaChaPoly nonce: 32 zero bits ‖ little-endian 64-bit `n` (Noise spec §12.3).
    private func chaChaNonce() throws -> ChaChaPoly.Nonce {
        var words = (UInt32(0), UInt32(truncatingIfNeeded: nonce).littleEndian, UInt32(truncatingIfNeeded: nonce >> 32).littleEndian)
        return try withUnsafeBytes(of: &words) { try ChaChaPoly.Nonce(data: $0) }
    }

    /// AESGCM nonce: 32 zero bits ‖ big-endian 64-bit `n` (Noise spec §12.4).
    private func aesGCMNonce() throws -> AES.GCM.Nonce {
        var words = (UInt32(0), UInt32(truncatingIfNeeded: nonce >> 32).bigEndian, UInt32(truncatingIfNeeded: nonce).bigEndian)
        return try withUnsafeBytes(of: &words) { try AES.GCM.Nonce(data: $0) }
    }
}
