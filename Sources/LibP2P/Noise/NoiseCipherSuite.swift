import Crypto

/// The cipher and hash functions of a Noise protocol name with DH = 25519
/// (Noise spec rev 34 §8 "Protocol names and modifiers", §12 "DH, cipher and hash functions").
///
/// libp2p only uses `Noise_XX_25519_ChaChaPoly_SHA256` (``libp2p``); the AES-GCM and SHA-512
/// combinations exist so the same code can run the other Cacophony vectors. BLAKE2 is not offered
/// because swift-crypto does not implement it.
public struct NoiseCipherSuite: Hashable, Sendable, CustomStringConvertible {
    /// An AEAD cipher function (Noise spec §12.3, §12.4).
    public enum Cipher: Hashable, Sendable {
        /// ChaCha20-Poly1305 (RFC 8439); nonce = 4 zero bytes ‖ little-endian u64 counter.
        case chaChaPoly
        /// AES-256-GCM; nonce = 4 zero bytes ‖ big-endian u64 counter.
        case aesGCM

        /// The name used in Noise protocol names.
        public var name: String {
            switch self {
            case .chaChaPoly: "ChaChaPoly"
            case .aesGCM: "AESGCM"
            }
        }
    }

    /// A hash function (Noise spec §12.5, §12.6).
    public enum Hash: Hashable, Sendable {
        /// SHA-256, HASHLEN = 32.
        case sha256
        /// SHA-512, HASHLEN = 64.
        case sha512

        /// The name used in Noise protocol names.
        public var name: String {
            switch self {
            case .sha256: "SHA256"
            case .sha512: "SHA512"
            }
        }

        /// HASHLEN: the output length in bytes (Noise spec §4.3).
        public var hashLength: Int {
            switch self {
            case .sha256: SHA256.byteCount
            case .sha512: SHA512.byteCount
            }
        }

        /// HASH(data) (Noise spec §4.3).
        func hash(_ data: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: Array(SHA256.hash(data: data))
            case .sha512: Array(SHA512.hash(data: data))
            }
        }

        /// HMAC-HASH(key, data) (Noise spec §4.3, RFC 2104).
        func hmac(key: [UInt8], data: [UInt8]) -> [UInt8] {
            let key = SymmetricKey(data: key)
            switch self {
            case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
            case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
            }
        }

        /// HKDF(chaining_key, input_key_material, num_outputs) (Noise spec §4.3): RFC 5869 with
        /// salt = chaining key and empty info, returning two or three HASHLEN-byte outputs.
        func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
            precondition(outputs == 2 || outputs == 3, "Noise HKDF yields two or three outputs")
            let tempKey = hmac(key: chainingKey, data: inputKeyMaterial)
            var results: [[UInt8]] = []
            var previous: [UInt8] = []
            for index in 1...outputs {
                previous = hmac(key: tempKey, data: previous + [UInt8(index)])
                results.append(previous)
            }
            return results
        }
    }

    /// The cipher function.
    public var cipher: Cipher
    /// The hash function.
    public var hash: Hash

    /// A suite from its cipher and hash functions.
    public init(cipher: Cipher, hash: Hash) {
        self.cipher = cipher
        self.hash = hash
    }

    /// `ChaChaPoly` with `SHA256`, the suite of libp2p's `/noise` (libp2p noise spec, "Handshake").
    public static let libp2p = NoiseCipherSuite(cipher: .chaChaPoly, hash: .sha256)

    /// The protocol name for `pattern`, e.g. `Noise_XX_25519_ChaChaPoly_SHA256` (Noise spec §8).
    public func protocolName(pattern: String) -> String {
        "Noise_\(pattern)_25519_\(cipher.name)_\(hash.name)"
    }

    /// The suite named by `protocolName` if it is an XX/25519 name this implementation supports.
    public init?(protocolName: String, pattern: String = "XX") {
        for cipher in [Cipher.chaChaPoly, .aesGCM] {
            for hash in [Hash.sha256, .sha512] {
                let suite = NoiseCipherSuite(cipher: cipher, hash: hash)
                if suite.protocolName(pattern: pattern) == protocolName {
                    self = suite
                    return
                }
            }
        }
        return nil
    }

    /// `Cipher_Hash`, e.g. `ChaChaPoly_SHA256`.
    public var description: String { "\(cipher.name)_\(hash.name)" }
}
