import Crypto

/// A Noise SymmetricState: the chaining key `ck`, the handshake hash `h` and a
/// ``NoiseCipherState`` (Noise spec rev 34 §5.2).
public struct NoiseSymmetricState: Sendable {
    /// The chaining key `ck` (HASHLEN bytes).
    public private(set) var chainingKey: [UInt8]
    /// The handshake hash `h` (HASHLEN bytes); GetHandshakeHash() (Noise spec §5.2).
    public private(set) var handshakeHash: [UInt8]
    /// The cipher state used by EncryptAndHash/DecryptAndHash.
    public private(set) var cipherState: NoiseCipherState
    /// The cipher and hash functions.
    public let suite: NoiseCipherSuite

    /// InitializeSymmetric(protocol_name) (Noise spec §5.2): `h` is the name padded with zeros
    /// to HASHLEN if it fits, else HASH(name); `ck = h`; the cipher key is empty.
    public init(protocolName: String, suite: NoiseCipherSuite) {
        let name = Array(protocolName.utf8)
        let hashLength = suite.hash.hashLength
        if name.count <= hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: hashLength - name.count)
        } else {
            handshakeHash = suite.hash.hash(name)
        }
        chainingKey = handshakeHash
        cipherState = NoiseCipherState(key: nil, cipher: suite.cipher)
        self.suite = suite
    }

    /// MixKey(input_key_material) (Noise spec §5.2): `ck, temp_k = HKDF(ck, ikm, 2)`; the cipher
    /// key becomes the first 32 bytes of `temp_k` with `n = 0`.
    public mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let outputs = suite.hash.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        chainingKey = outputs[0]
        cipherState = NoiseCipherState(key: Self.cipherKey(outputs[1]), cipher: suite.cipher)
    }

    /// MixHash(data) (Noise spec §5.2): `h = HASH(h ‖ data)`.
    public mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = suite.hash.hash(handshakeHash + data)
    }

    /// EncryptAndHash(plaintext) (Noise spec §5.2): encrypts with `ad = h` (or passes the
    /// plaintext through while the key is empty), then mixes the result into `h`.
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let ciphertext = try cipherState.encryptWithAD(handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext) (Noise spec §5.2): decrypts with `ad = h` (or passes the
    /// ciphertext through while the key is empty), then mixes the ciphertext into `h`.
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let plaintext = try cipherState.decryptWithAD(handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split() (Noise spec §5.2): `temp_k1, temp_k2 = HKDF(ck, empty, 2)`, returning two cipher
    /// states keyed with their first 32 bytes. The initiator sends with the first.
    public func split() -> (NoiseCipherState, NoiseCipherState) {
        let outputs = suite.hash.hkdf(chainingKey: chainingKey, inputKeyMaterial: [], outputs: 2)
        return (
            NoiseCipherState(key: Self.cipherKey(outputs[0]), cipher: suite.cipher),
            NoiseCipherState(key: Self.cipherKey(outputs[1]), cipher: suite.cipher)
        )
    }

    /// Truncates a HASHLEN-byte HKDF output to a 32-byte cipher key (Noise spec §5.2 MixKey).
    private static func cipherKey(_ output: [UInt8]) -> SymmetricKey {
        SymmetricKey(data: output.prefix(NoiseCipherState.keyLength))
    }
}
