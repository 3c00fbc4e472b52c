/// The X3DH / PQXDH key derivation (Signal X3DH §2.2, §3.3; PQXDH §3.3; crypto.md §8.3).
enum X3DH {
    /// The 32 0xFF bytes prepended to the DH outputs (X3DH §2.2 `F`).
    static let paddingPrefix = [UInt8](repeating: 0xFF, count: 32)

    /// `SK‖HKa‖NHKb = HKDF(salt=0^32, IKM=0xFF^32‖DH1‖DH2‖DH3[‖DH4][‖SS],
    /// info="x3dh/v1"‖suite‖PeerId_A‖PeerId_B, L=96)`.
    static func deriveKeys(
        suite: Ciphersuite, dhOutputs: [[UInt8]], kemSharedSecret: [UInt8]?,
        initiatorPeerID: [UInt8], responderPeerID: [UInt8]
    ) -> (sharedSecret: [UInt8], headerKey: [UInt8], nextHeaderKey: [UInt8]) {
        var inputKeyMaterial = paddingPrefix
        for output in dhOutputs { inputKeyMaterial += output }
        if let kemSharedSecret { inputKeyMaterial += kemSharedSecret }
        let info = Labels.x3dh + [suite.rawValue] + initiatorPeerID + responderPeerID
        let output = KeyDerivation.hkdf(
            inputKeyMaterial: inputKeyMaterial, salt: [UInt8](repeating: 0, count: 32), info: info, outputByteCount: 96)
        return (Array(output[0..<32]), Array(output[32..<64]), Array(output[64..<96]))
    }

    /// `AD = PeerId_A‖IK_dh_A‖PeerId_B‖IK_dh_B` (X3DH §3.3).
    static func associatedData(
        initiatorPeerID: [UInt8], initiatorIdentityKey: DHPublicKey, responderPeerID: [UInt8], responderIdentityKey: DHPublicKey
    ) -> [UInt8] {
        initiatorPeerID + initiatorIdentityKey.bytes + responderPeerID + responderIdentityKey.bytes
    }
}
