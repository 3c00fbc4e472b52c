import Crypto
import LibP2P

/// Starts a session from a peer's prekey bundle (X3DH §3.3 / PQXDH §3.3, Alice's side;
/// crypto.md §8.3).
public enum SessionInitiator {
    /// Verifies `theirBundle`, runs X3DH (PQXDH for suite 0x03) and returns a session whose
    /// first envelopes are prekey messages carrying `replyAddress`.
    ///
    /// Uses the first one-time prekey the bundle lists for `suite`, if any; the caller should
    /// drop it from its cached copy of the bundle. Throws `.unsupportedSuite` when the bundle
    /// does not offer `suite` or `ourIdentityDHKey` is for another suite, and bundle errors
    /// (`.invalidSignature`, `.peerIDMismatch`, `.expired`).
    public static func start(
        ourIdentity: IdentityKeyPair, ourIdentityDHKey: IdentityDHKey, theirBundle: PreKeyBundle,
        suite: Ciphersuite, replyAddress: [UInt8] = [], now: UInt64
    ) throws -> Session {
        var random = SystemRandomSource()
        return try start(
            ourIdentity: ourIdentity, ourIdentityDHKey: ourIdentityDHKey, theirBundle: theirBundle, suite: suite,
            replyAddress: replyAddress, now: now, random: &random)
    }

    static func start(
        ourIdentity: IdentityKeyPair, ourIdentityDHKey: IdentityDHKey, theirBundle: PreKeyBundle,
        suite: Ciphersuite, replyAddress: [UInt8], now: UInt64, random: inout some RandomSource
    ) throws -> Session {
        guard ourIdentityDHKey.suite == suite else {
            throw ChatCryptoError(.unsupportedSuite, "our identity DH key is for \(ourIdentityDHKey.suite), not \(suite)")
        }
        guard replyAddress.count <= PreKeyMessage.maximumReplyAddressLength else {
            throw ChatCryptoError(.lengthExceeded, "reply address exceeds \(PreKeyMessage.maximumReplyAddressLength) bytes")
        }
        try theirBundle.verify(now: now)
        let keys = try theirBundle.keys(for: suite, now: now)
        let oneTime = theirBundle.oneTimePreKeys.first { $0.suite == suite }
        let ephemeral = EphemeralKey(privateKey: random.makeDHPrivateKey(curve: suite.curve))

        var dhOutputs = [
            try ourIdentityDHKey.privateKey.sharedSecret(with: keys.signedPreKey),
            try ephemeral.privateKey.sharedSecret(with: keys.identityDHKey),
            try ephemeral.privateKey.sharedSecret(with: keys.signedPreKey),
        ]
        if let oneTime { dhOutputs.append(try ephemeral.privateKey.sharedSecret(with: oneTime.publicKey)) }
        var kemSecret: [UInt8]?
        var kemCiphertext: [UInt8]?
        if let kem = keys.kemPreKey {
            do {
                let result = try MLKEM768.PublicKey(rawRepresentation: kem.publicKey).encapsulate()
                kemSecret = result.sharedSecret.withUnsafeBytes { [UInt8]($0) }
                kemCiphertext = [UInt8](result.encapsulated)
            } catch {
                throw ChatCryptoError(.cryptoFailure, "ML-KEM-768 encapsulation failed", underlying: error)
            }
        }
        let ourPeerID = ourIdentity.peerID
        let derived = X3DH.deriveKeys(
            suite: suite, dhOutputs: dhOutputs, kemSharedSecret: kemSecret,
            initiatorPeerID: ourPeerID.bytes, responderPeerID: theirBundle.peerID.bytes)
        let ratchet = try RatchetState(
            initiatorWithSuite: suite, sharedSecret: derived.sharedSecret, remoteRatchetKey: keys.signedPreKey,
            sharedHeaderKey: derived.headerKey, sharedNextHeaderKey: derived.nextHeaderKey, random: &random)
        let ourDHPublic = ourIdentityDHKey.publicKey
        let preKeyMessage = PreKeyMessage(
            suite: suite, identityKey: ourIdentity.publicKey, identityDHKey: ourDHPublic,
            identityDHKeyCreatedAt: ourIdentityDHKey.createdAt,
            identityBindingSignature: try signWithIdentity(
                ourIdentity, IdentityDHKey.bindingMessage(suite: suite, publicKey: ourDHPublic, createdAt: ourIdentityDHKey.createdAt)),
            baseKey: ephemeral.publicKey, signedPreKeyID: keys.signedPreKeyID, oneTimePreKeyID: oneTime?.id,
            kemPreKeyID: keys.kemPreKey?.id, kemCiphertext: kemCiphertext, replyAddress: replyAddress, ratchetMessage: [])
        return Session(
            role: .initiator, localPeerID: ourPeerID, remotePeerID: theirBundle.peerID, baseKey: ephemeral.publicKey,
            associatedData: X3DH.associatedData(
                initiatorPeerID: ourPeerID.bytes, initiatorIdentityKey: ourDHPublic,
                responderPeerID: theirBundle.peerID.bytes, responderIdentityKey: keys.identityDHKey),
            ratchet: ratchet, pendingPreKey: (preKeyMessage, keys.identityDHKey))
    }
}
