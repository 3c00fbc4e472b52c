import Crypto

/// AES-256-GCM with explicit 96-bit nonces, returning `ciphertext‖tag` (crypto.md §8.4).
enum AEAD {
    static let nonceLength = 12
    static let tagLength = 16
    static let keyLength = 32

    static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) throws -> [UInt8] {
        do {
            let box = try AES.GCM.seal(
                plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: nonce), authenticating: associatedData)
            var out = [UInt8](box.ciphertext)
            out.append(contentsOf: box.tag)
            return out
        } catch {
            throw ChatCryptoError(.cryptoFailure, "AES-256-GCM seal failed", underlying: error)
        }
    }

    /// Opens `ciphertext‖tag`; returns nil when authentication fails, so callers pick the error code.
    static func open(_ sealed: ArraySlice<UInt8>, key: [UInt8], nonce: [UInt8], associatedData: [UInt8]) -> [UInt8]? {
        guard sealed.count >= tagLength else { return nil }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: nonce),
                ciphertext: sealed.dropLast(tagLength),
                tag: sealed.suffix(tagLength))
            return [UInt8](try AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: associatedData))
        } catch {
            return nil
        }
    }
}
