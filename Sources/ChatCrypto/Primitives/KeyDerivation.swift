import Crypto

/// The symmetric primitives of the design, each a thin call into swift-crypto (crypto.md §8.3–8.4).
enum KeyDerivation {
    /// HKDF-SHA256 (RFC 5869) with raw byte inputs and output.
    static func hkdf(inputKeyMaterial: [UInt8], salt: [UInt8], info: [UInt8], outputByteCount: Int) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: salt, info: info, outputByteCount: outputByteCount)
        return key.withUnsafeBytes { [UInt8]($0) }
    }

    /// HMAC-SHA256 (RFC 2104).
    static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        [UInt8](HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// `KDF_RK(rk, dh) = HKDF(salt=rk, IKM=dh, info="rk/v1"‖suite, L=96)` split into
    /// (root key, chain key, next header key) (crypto.md §8.4; Double Ratchet §4.2 `KDF_RK_HE`).
    static func rootStep(rootKey: [UInt8], dhOutput: [UInt8], suite: Ciphersuite) -> (rootKey: [UInt8], chainKey: [UInt8], nextHeaderKey: [UInt8]) {
        let output = hkdf(inputKeyMaterial: dhOutput, salt: rootKey, info: Labels.rootKey + [suite.rawValue], outputByteCount: 96)
        return (Array(output[0..<32]), Array(output[32..<64]), Array(output[64..<96]))
    }

    /// `KDF_CK(ck)`: message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02)
    /// (Double Ratchet §5.2 recommendation).
    static func chainStep(chainKey: [UInt8]) -> (chainKey: [UInt8], messageKey: [UInt8]) {
        let key = SymmetricKey(data: chainKey)
        let messageKey = [UInt8](HMAC<SHA256>.authenticationCode(for: [0x01], using: key))
        let nextChainKey = [UInt8](HMAC<SHA256>.authenticationCode(for: [0x02], using: key))
        return (nextChainKey, messageKey)
    }

    /// The AES-256-GCM key for a message key: HKDF(IKM=mk, salt=none, info="msg/v1"‖suite, L=32).
    static func messageEncryptionKey(messageKey: [UInt8], suite: Ciphersuite) -> [UInt8] {
        hkdf(inputKeyMaterial: messageKey, salt: [], info: Labels.messageKey + [suite.rawValue], outputByteCount: 32)
    }
}

/// Domain-separation labels; every one is followed by the suite byte where it is used.
enum Labels {
    static let x3dh = Array("x3dh/v1".utf8)
    static let rootKey = Array("rk/v1".utf8)
    static let messageKey = Array("msg/v1".utf8)
    static let identityBinding = Array("idbind/v1".utf8)
    static let signedPreKey = Array("spk/v1".utf8)
    static let kemPreKey = Array("pqspk/v1".utf8)
    static let deviceList = Array("devices/v1".utf8)
    static let bundle = Array("bundle/v1".utf8)
    static let preKeyHPKE = Array("p2pchat prekey/v1".utf8)
}
