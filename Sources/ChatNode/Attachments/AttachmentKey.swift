import Crypto
import Foundation

/// The symmetric key of one attachment blob: 256 random bits, fresh for every file, used with
/// AES-256-GCM by ``AttachmentEncryptor`` and ``AttachmentDecryptor``.
///
/// It travels only inside the end-to-end encrypted message (``AttachmentContent``) and is
/// stored with the attachment's record; because every file has its own key, chunk nonces can
/// simply count chunks.
public struct AttachmentKey: Sendable {
    /// Key length in bytes.
    public static let byteCount = 32

    let key: SymmetricKey

    /// A fresh random key.
    public static func generate() -> AttachmentKey {
        AttachmentKey(key: SymmetricKey(size: .bits256))
    }

    private init(key: SymmetricKey) { self.key = key }

    /// Wraps received or stored key bytes; any length but ``byteCount`` is `.malformedInput`.
    public init(bytes: some ContiguousBytes) throws {
        let key = SymmetricKey(data: bytes)
        guard key.bitCount == Self.byteCount * 8 else {
            throw ChatNodeError(.malformedInput, "attachment key must be \(Self.byteCount) bytes, not \(key.bitCount / 8)")
        }
        self.key = key
    }

    /// The key bytes, for the E2E content and the local record only.
    var serialized: Data {
        key.withUnsafeBytes { Data($0) }
    }
}
