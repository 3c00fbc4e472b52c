/// The Double Ratchet with header encryption (Signal "The Double Ratchet Algorithm" rev. 1 §4,
/// crypto.md §8.4) as a value-type state machine.
///
/// - `KDF_RK`: HKDF(salt=RK, IKM=dh, info="rk/v1"‖suite) → RK′ ‖ CK ‖ NHK.
/// - `KDF_CK`: HMAC-SHA256(CK, 0x01) = MK, HMAC-SHA256(CK, 0x02) = CK′.
/// - Body: AES-256-GCM under HKDF(MK, "msg/v1"‖suite), header: AES-256-GCM under HK; both with
///   random 96-bit nonces, so restoring an older state never reuses a key with the same nonce.
/// - Associated data: header `suite‖AD`; body `suite‖AD‖hdr_nonce‖Enc(header)`.
///
/// Decryption runs on a copy, so a failed decrypt leaves the state unchanged.
struct RatchetState: Sendable {
    /// Most message keys skipped in one chain (Double Ratchet §3.5 `MAX_SKIP`).
    static let maximumSkip: UInt32 = 2000
    /// Most skipped message keys stored in total; the oldest go first.
    static let maximumStoredSkippedKeys = 2000
    /// How long a skipped message key is kept, in milliseconds (7 days).
    static let skippedKeyLifetime: UInt64 = 7 * 24 * 3_600_000
    static let stateVersion: UInt8 = 1
    static let keyLength = 32

    let suite: Ciphersuite
    private(set) var sendingRatchetKey: DHPrivateKey
    private(set) var remoteRatchetKey: DHPublicKey?
    private(set) var rootKey: [UInt8]
    private(set) var sendingChainKey: [UInt8]?
    private(set) var receivingChainKey: [UInt8]?
    private(set) var sendCount: UInt32 = 0
    private(set) var receiveCount: UInt32 = 0
    private(set) var previousSendCount: UInt32 = 0
    private(set) var sendingHeaderKey: [UInt8]?
    private(set) var receivingHeaderKey: [UInt8]?
    private(set) var nextSendingHeaderKey: [UInt8]
    private(set) var nextReceivingHeaderKey: [UInt8]
    private(set) var skippedKeys: [SkippedMessageKey] = []

    /// `RatchetInitAliceHE` (§4): the initiator, who knows the responder's ratchet key (the SPK).
    init(
        initiatorWithSuite suite: Ciphersuite, sharedSecret: [UInt8], remoteRatchetKey: DHPublicKey,
        sharedHeaderKey: [UInt8], sharedNextHeaderKey: [UInt8], random: inout some RandomSource
    ) throws {
        self.suite = suite
        sendingRatchetKey = random.makeDHPrivateKey(curve: suite.curve)
        self.remoteRatchetKey = remoteRatchetKey
        let step = KeyDerivation.rootStep(
            rootKey: sharedSecret, dhOutput: try sendingRatchetKey.sharedSecret(with: remoteRatchetKey), suite: suite)
        rootKey = step.rootKey
        sendingChainKey = step.chainKey
        nextSendingHeaderKey = step.nextHeaderKey
        sendingHeaderKey = sharedHeaderKey
        nextReceivingHeaderKey = sharedNextHeaderKey
    }

    /// `RatchetInitBobHE` (§4): the responder, whose first ratchet key is its signed prekey.
    init(
        responderWithSuite suite: Ciphersuite, sharedSecret: [UInt8], ourRatchetKey: DHPrivateKey,
        sharedHeaderKey: [UInt8], sharedNextHeaderKey: [UInt8]
    ) {
        self.suite = suite
        sendingRatchetKey = ourRatchetKey
        rootKey = sharedSecret
        nextSendingHeaderKey = sharedNextHeaderKey
        nextReceivingHeaderKey = sharedHeaderKey
    }

    /// Whether this side can send (the responder cannot until it received a message).
    var canSend: Bool { sendingChainKey != nil && sendingHeaderKey != nil }

    // MARK: Encrypt

    /// `RatchetEncryptHE` (§4): returns the ratchet message bytes.
    mutating func encrypt(_ plaintext: [UInt8], associatedData: [UInt8], random: inout some RandomSource) throws -> [UInt8] {
        guard let chainKey = sendingChainKey, let headerKey = sendingHeaderKey else {
            throw ChatCryptoError(.invalidState, "no sending chain yet: the responder must receive a message first")
        }
        guard sendCount < UInt32.max else { throw ChatCryptoError(.invalidState, "sending chain exhausted") }
        let step = KeyDerivation.chainStep(chainKey: chainKey)
        let header = RatchetHeader(ratchetKey: sendingRatchetKey.publicKey, previousChainLength: previousSendCount, messageNumber: sendCount)
        let headerAD = [suite.rawValue] + associatedData
        let headerNonce = random.bytes(count: AEAD.nonceLength)
        let sealedHeader = try AEAD.seal(header.encoded, key: headerKey, nonce: headerNonce, associatedData: headerAD)
        let bodyNonce = random.bytes(count: AEAD.nonceLength)
        let sealedBody = try AEAD.seal(
            plaintext, key: KeyDerivation.messageEncryptionKey(messageKey: step.messageKey, suite: suite),
            nonce: bodyNonce, associatedData: headerAD + headerNonce + sealedHeader)
        sendingChainKey = step.chainKey
        sendCount += 1
        var out = headerNonce
        out.reserveCapacity(headerNonce.count + sealedHeader.count + bodyNonce.count + sealedBody.count)
        out += sealedHeader
        out += bodyNonce
        out += sealedBody
        return out
    }

    // MARK: Decrypt

    /// `RatchetDecryptHE` (§4), transactional: on any error `self` is unchanged.
    ///
    /// Throws `.headerDecryptionFailed` when no header key of this session opens the header,
    /// `.replayedMessage` when the header names a message whose key was already used,
    /// `.tooManySkippedMessages` beyond `maximumSkip`, `.decryptionFailed` for a tampered body.
    mutating func decrypt(_ bytes: [UInt8], associatedData: [UInt8], now: UInt64, random: inout some RandomSource) throws -> [UInt8] {
        var copy = self
        let plaintext = try copy.decryptInPlace(bytes, associatedData: associatedData, now: now, random: &random)
        self = copy
        return plaintext
    }

    /// Drops skipped message keys older than `skippedKeyLifetime`.
    mutating func expireSkippedKeys(now: UInt64) {
        skippedKeys.removeAll { now >= $0.storedAt && now - $0.storedAt >= Self.skippedKeyLifetime }
    }

    private mutating func decryptInPlace(_ bytes: [UInt8], associatedData: [UInt8], now: UInt64, random: inout some RandomSource) throws -> [UInt8] {
        expireSkippedKeys(now: now)
        let message = try RatchetMessage(parsing: bytes, curve: suite.curve)
        let headerAD = [suite.rawValue] + associatedData
        let bodyAD = headerAD + message.headerNonce + message.sealedHeader

        func openBody(_ messageKey: [UInt8]) throws -> [UInt8] {
            let key = KeyDerivation.messageEncryptionKey(messageKey: messageKey, suite: suite)
            guard let plaintext = AEAD.open(message.sealedBody, key: key, nonce: message.bodyNonce, associatedData: bodyAD) else {
                throw ChatCryptoError(.decryptionFailed, "message body does not authenticate")
            }
            return plaintext
        }
        func openHeader(_ key: [UInt8]) -> RatchetHeader? {
            guard let plain = AEAD.open(message.sealedHeader[...], key: key, nonce: message.headerNonce, associatedData: headerAD)
            else { return nil }
            return try? RatchetHeader(parsing: plain, curve: suite.curve)
        }

        // TrySkippedMessageKeysHE.
        var triedHeaderKeys: [[UInt8]] = []
        for skipped in skippedKeys where !triedHeaderKeys.contains(skipped.headerKey) {
            triedHeaderKeys.append(skipped.headerKey)
            guard let header = openHeader(skipped.headerKey) else { continue }
            if let index = skippedKeys.firstIndex(where: { $0.headerKey == skipped.headerKey && $0.messageNumber == header.messageNumber }) {
                let messageKey = skippedKeys.remove(at: index).messageKey
                return try openBody(messageKey)
            }
            if skipped.headerKey != receivingHeaderKey {
                throw ChatCryptoError(.replayedMessage, "message \(header.messageNumber) of an earlier chain was already received")
            }
            break
        }

        if let currentHeaderKey = receivingHeaderKey, let header = openHeader(currentHeaderKey) {
            guard header.messageNumber >= receiveCount else {
                throw ChatCryptoError(.replayedMessage, "message \(header.messageNumber) was already received")
            }
            try skipMessageKeys(until: header.messageNumber, now: now)
        } else if let header = openHeader(nextReceivingHeaderKey) {
            try skipMessageKeys(until: header.previousChainLength, now: now)
            try ratchetStep(remoteKey: header.ratchetKey, random: &random)
            try skipMessageKeys(until: header.messageNumber, now: now)
        } else {
            throw ChatCryptoError(.headerDecryptionFailed, "header does not decrypt under this session's header keys")
        }
        guard let chainKey = receivingChainKey else {
            throw ChatCryptoError(.invalidState, "no receiving chain")
        }
        let step = KeyDerivation.chainStep(chainKey: chainKey)
        receivingChainKey = step.chainKey
        receiveCount += 1
        return try openBody(step.messageKey)
    }

    /// `SkipMessageKeysHE` (§4) with the per-chain `MAX_SKIP` and the total cap.
    private mutating func skipMessageKeys(until target: UInt32, now: UInt64) throws {
        guard UInt64(target) <= UInt64(receiveCount) + UInt64(Self.maximumSkip) else {
            throw ChatCryptoError(.tooManySkippedMessages, "header skips to message \(target) from \(receiveCount); at most \(Self.maximumSkip)")
        }
        guard var chainKey = receivingChainKey, let headerKey = receivingHeaderKey else { return }
        while receiveCount < target {
            let step = KeyDerivation.chainStep(chainKey: chainKey)
            skippedKeys.append(SkippedMessageKey(headerKey: headerKey, messageNumber: receiveCount, messageKey: step.messageKey, storedAt: now))
            chainKey = step.chainKey
            receiveCount += 1
        }
        receivingChainKey = chainKey
        if skippedKeys.count > Self.maximumStoredSkippedKeys {
            skippedKeys.removeFirst(skippedKeys.count - Self.maximumStoredSkippedKeys)
        }
    }

    /// `DHRatchetHE` (§4): two root-key steps and a fresh ratchet key pair.
    private mutating func ratchetStep(remoteKey: DHPublicKey, random: inout some RandomSource) throws {
        previousSendCount = sendCount
        sendCount = 0
        receiveCount = 0
        sendingHeaderKey = nextSendingHeaderKey
        receivingHeaderKey = nextReceivingHeaderKey
        remoteRatchetKey = remoteKey
        let receiving = KeyDerivation.rootStep(rootKey: rootKey, dhOutput: try sendingRatchetKey.sharedSecret(with: remoteKey), suite: suite)
        receivingChainKey = receiving.chainKey
        nextReceivingHeaderKey = receiving.nextHeaderKey
        sendingRatchetKey = random.makeDHPrivateKey(curve: suite.curve)
        let sending = KeyDerivation.rootStep(
            rootKey: receiving.rootKey, dhOutput: try sendingRatchetKey.sharedSecret(with: remoteKey), suite: suite)
        rootKey = sending.rootKey
        sendingChainKey = sending.chainKey
        nextSendingHeaderKey = sending.nextHeaderKey
    }

    // MARK: Serialization

    /// Versioned binary form for the session store. Contains private keys: store it encrypted.
    func encode(into writer: inout ByteWriter) {
        writer.write(Self.stateVersion)
        writer.write(suite.rawValue)
        writer.write(raw: sendingRatchetKey.rawRepresentation)
        Self.writeOptional(remoteRatchetKey?.bytes, into: &writer)
        writer.write(raw: rootKey)
        Self.writeOptional(sendingChainKey, into: &writer)
        Self.writeOptional(receivingChainKey, into: &writer)
        writer.write(sendCount)
        writer.write(receiveCount)
        writer.write(previousSendCount)
        Self.writeOptional(sendingHeaderKey, into: &writer)
        Self.writeOptional(receivingHeaderKey, into: &writer)
        writer.write(raw: nextSendingHeaderKey)
        writer.write(raw: nextReceivingHeaderKey)
        writer.write(UInt16(skippedKeys.count))
        for key in skippedKeys {
            writer.write(raw: key.headerKey)
            writer.write(key.messageNumber)
            writer.write(raw: key.messageKey)
            writer.write(key.storedAt)
        }
    }

    private static func writeOptional(_ value: [UInt8]?, into writer: inout ByteWriter) {
        writer.write(value != nil)
        if let value { writer.write(raw: value) }
    }

    init(parsing reader: inout ByteReader) throws {
        let version = try reader.readUInt8()
        guard version == Self.stateVersion else {
            throw ChatCryptoError(.unsupportedVersion, "ratchet state version \(version); expected \(Self.stateVersion)")
        }
        suite = try Ciphersuite(byte: try reader.readUInt8())
        let curve = suite.curve
        sendingRatchetKey = try DHPrivateKey(curve: curve, rawRepresentation: try reader.readBytes(count: DHPrivateKey.rawLength))
        if try reader.readBool() {
            remoteRatchetKey = try DHPublicKey(curve: curve, bytes: try reader.readBytes(count: curve.publicKeyLength))
        }
        func key() throws -> [UInt8] { try reader.readBytes(count: Self.keyLength) }
        func optionalKey() throws -> [UInt8]? { try reader.readBool() ? try key() : nil }
        rootKey = try key()
        sendingChainKey = try optionalKey()
        receivingChainKey = try optionalKey()
        sendCount = try reader.readUInt32()
        receiveCount = try reader.readUInt32()
        previousSendCount = try reader.readUInt32()
        sendingHeaderKey = try optionalKey()
        receivingHeaderKey = try optionalKey()
        nextSendingHeaderKey = try key()
        nextReceivingHeaderKey = try key()
        let skippedCount = Int(try reader.readUInt16())
        guard skippedCount <= Self.maximumStoredSkippedKeys else {
            throw ChatCryptoError(.lengthExceeded, "\(skippedCount) skipped keys exceed \(Self.maximumStoredSkippedKeys)")
        }
        for _ in 0..<skippedCount {
            skippedKeys.append(SkippedMessageKey(
                headerKey: try key(), messageNumber: try reader.readUInt32(), messageKey: try key(), storedAt: try reader.readUInt64()))
        }
    }
}
