import LibP2P

/// A user's published, signed prekey bundle (X3DH §3.2 / PQXDH §3.2; crypto.md §8.2).
///
/// Versioned, deterministic binary encoding, all integers big-endian:
/// ```
/// version u8 (=1)
/// identity key protobuf (len u16) | PeerID (len u8) | sequence u64 | created u64 | expires u64
/// suites: count u8, each:
///   suite u8 | IK_dh (len u8) | IK_dh created u64 | idbind sig (64)
///   SPK id u32 | SPK (len u8) | SPK expires u64 | spk sig (64)
///   has KEM u8 [| PQSPK id u32 | PQSPK (len u16) | expires u64 | pqspk sig (64)]
/// one-time prekeys: count u16, each: suite u8 | id u32 | key (len u8)
/// device list: count u8, each: id (16) | PeerID (len u8); then its signature (64)
/// mailbox queue addresses: count u8, each (len u16)
/// bundle signature (64) = Sig("bundle/v1"‖all preceding bytes)
/// ```
/// Every signature is by the libp2p Ed25519 identity key. `verify(now:)` checks them all, the
/// expiries, and that the PeerID is the identity key's; tampering with any byte fails.
public struct PreKeyBundle: Hashable, Sendable {
    /// Current encoding version.
    public static let version: UInt8 = 1
    /// Largest encoded bundle accepted.
    public static let maximumEncodedSize = 256 * 1024
    /// Most one-time prekeys in a bundle.
    public static let maximumOneTimePreKeys = 1000
    /// Most mailbox queue addresses in a bundle.
    public static let maximumMailboxAddresses = 16
    /// Largest mailbox queue address.
    public static let maximumMailboxAddressLength = 1024
    static let maximumIdentityKeyLength = 256
    static let maximumPeerIDLength = 128

    /// The per-suite keys: identity DH key, signed prekey and (suite 0x03) the KEM prekey.
    public struct SuiteKeys: Hashable, Sendable {
        public let suite: Ciphersuite
        public let identityDHKey: DHPublicKey
        public let identityDHKeyCreatedAt: UInt64
        /// `Sig("idbind/v1"‖suite‖IK_dh‖created)`.
        public let identityBindingSignature: [UInt8]
        public let signedPreKeyID: UInt32
        public let signedPreKey: DHPublicKey
        public let signedPreKeyExpiresAt: UInt64
        /// `Sig("spk/v1"‖suite‖id‖SPK‖expires)`.
        public let signedPreKeySignature: [UInt8]
        public let kemPreKey: KEMPreKeyEntry?
    }

    /// A published ML-KEM-768 prekey with its signature `Sig("pqspk/v1"‖suite‖id‖PQSPK‖expires)`.
    public struct KEMPreKeyEntry: Hashable, Sendable {
        public let id: UInt32
        public let publicKey: [UInt8]
        public let expiresAt: UInt64
        public let signature: [UInt8]
    }

    /// A published one-time prekey (covered by the bundle signature only, as in X3DH).
    public struct OneTimePreKeyEntry: Hashable, Sendable {
        public let suite: Ciphersuite
        public let id: UInt32
        public let publicKey: DHPublicKey
    }

    /// The owner's libp2p identity key (Ed25519).
    public let identityKey: PublicKey
    /// The owner's PeerID; must be the identity key's.
    public let peerID: PeerID
    /// Monotonic bundle sequence number; a newer bundle replaces an older one.
    public let sequence: UInt64
    /// Creation and expiry, milliseconds since 1970.
    public let createdAt: UInt64
    public let expiresAt: UInt64
    /// Keys per offered suite.
    public let suites: [SuiteKeys]
    /// One-time prekeys.
    public let oneTimePreKeys: [OneTimePreKeyEntry]
    /// The signed device list.
    public let devices: DeviceList
    /// Opaque mailbox queue addresses filled by the upper layer.
    public let mailboxAddresses: [[UInt8]]
    /// Signature over everything before it.
    public let signature: [UInt8]
    /// The exact bytes the bundle signature covers (after the label).
    private let signedBody: [UInt8]

    /// Builds and signs a bundle from our prekeys.
    public static func make(
        identity: IdentityKeyPair, preKeys: LocalPreKeys, deviceID: [UInt8], sequence: UInt64,
        createdAt: UInt64, expiresAt: UInt64, mailboxAddresses: [[UInt8]] = []
    ) throws -> PreKeyBundle {
        guard mailboxAddresses.count <= maximumMailboxAddresses,
              mailboxAddresses.allSatisfy({ $0.count <= maximumMailboxAddressLength }) else {
            throw ChatCryptoError(.lengthExceeded, "at most \(maximumMailboxAddresses) mailbox addresses of \(maximumMailboxAddressLength) bytes")
        }
        guard preKeys.oneTimePreKeys.count <= maximumOneTimePreKeys else {
            throw ChatCryptoError(.lengthExceeded, "at most \(maximumOneTimePreKeys) one-time prekeys")
        }
        var suites: [SuiteKeys] = []
        for suite in Ciphersuite.allCases {
            guard let ik = preKeys.identityDHKey(for: suite) else { continue }
            guard let spk = preKeys.currentSignedPreKey(for: suite) else {
                throw ChatCryptoError(.invalidState, "no signed prekey for suite \(suite)")
            }
            var kem: KEMPreKeyEntry?
            if suite.usesKEM {
                guard let pq = preKeys.currentKEMPreKey else {
                    throw ChatCryptoError(.invalidState, "suite \(suite) needs a KEM prekey")
                }
                let publicKey = pq.publicKeyBytes
                kem = KEMPreKeyEntry(
                    id: pq.id, publicKey: publicKey, expiresAt: pq.expiresAt,
                    signature: try signWithIdentity(identity, KEMPreKey.signedMessage(id: pq.id, publicKey: publicKey, expiresAt: pq.expiresAt)))
            }
            suites.append(SuiteKeys(
                suite: suite, identityDHKey: ik.publicKey, identityDHKeyCreatedAt: ik.createdAt,
                identityBindingSignature: try signWithIdentity(
                    identity, IdentityDHKey.bindingMessage(suite: suite, publicKey: ik.publicKey, createdAt: ik.createdAt)),
                signedPreKeyID: spk.id, signedPreKey: spk.publicKey, signedPreKeyExpiresAt: spk.expiresAt,
                signedPreKeySignature: try signWithIdentity(
                    identity, SignedPreKey.signedMessage(suite: suite, id: spk.id, publicKey: spk.publicKey, expiresAt: spk.expiresAt)),
                kemPreKey: kem))
        }
        guard !suites.isEmpty else { throw ChatCryptoError(.invalidState, "no identity DH keys to publish") }
        let offered = Set(suites.map(\.suite))
        let oneTime = preKeys.oneTimePreKeys.filter { offered.contains($0.suite) }
            .map { OneTimePreKeyEntry(suite: $0.suite, id: $0.id, publicKey: $0.publicKey) }
        let devices = try DeviceList.make(devices: [try .init(id: deviceID, peerID: identity.peerID)], identity: identity)
        var writer = ByteWriter()
        encodeBody(
            identityKey: identity.publicKey, peerID: identity.peerID, sequence: sequence, createdAt: createdAt,
            expiresAt: expiresAt, suites: suites, oneTimePreKeys: oneTime, devices: devices,
            mailboxAddresses: mailboxAddresses, into: &writer)
        let body = writer.bytes
        let signature = try signWithIdentity(identity, Labels.bundle + body)
        return try PreKeyBundle(parsing: body + signature)
    }

    private static func encodeBody(
        identityKey: PublicKey, peerID: PeerID, sequence: UInt64, createdAt: UInt64, expiresAt: UInt64,
        suites: [SuiteKeys], oneTimePreKeys: [OneTimePreKeyEntry], devices: DeviceList,
        mailboxAddresses: [[UInt8]], into writer: inout ByteWriter
    ) {
        writer.write(version)
        writer.write(long: identityKey.protobufBytes)
        writer.write(short: peerID.bytes)
        writer.write(sequence)
        writer.write(createdAt)
        writer.write(expiresAt)
        writer.write(UInt8(suites.count))
        for entry in suites {
            writer.write(entry.suite.rawValue)
            writer.write(short: entry.identityDHKey.bytes)
            writer.write(entry.identityDHKeyCreatedAt)
            writer.write(raw: entry.identityBindingSignature)
            writer.write(entry.signedPreKeyID)
            writer.write(short: entry.signedPreKey.bytes)
            writer.write(entry.signedPreKeyExpiresAt)
            writer.write(raw: entry.signedPreKeySignature)
            writer.write(entry.kemPreKey != nil)
            if let kem = entry.kemPreKey {
                writer.write(kem.id)
                writer.write(long: kem.publicKey)
                writer.write(kem.expiresAt)
                writer.write(raw: kem.signature)
            }
        }
        writer.write(UInt16(oneTimePreKeys.count))
        for entry in oneTimePreKeys {
            writer.write(entry.suite.rawValue)
            writer.write(entry.id)
            writer.write(short: entry.publicKey.bytes)
        }
        devices.encode(into: &writer)
        writer.write(UInt8(mailboxAddresses.count))
        for address in mailboxAddresses { writer.write(long: address) }
    }

    /// The encoded bundle, signature included.
    public var encoded: [UInt8] { signedBody + signature }

    /// Parses an encoded bundle. Structure and key encodings only: call `verify(now:)` before use.
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumEncodedSize else {
            throw ChatCryptoError(.lengthExceeded, "bundle of \(bytes.count) bytes exceeds \(Self.maximumEncodedSize)")
        }
        var reader = ByteReader(bytes, context: "prekey bundle")
        let version = try reader.readUInt8()
        guard version == Self.version else {
            throw ChatCryptoError(.unsupportedVersion, "prekey bundle version \(version); expected \(Self.version)")
        }
        do {
            identityKey = try PublicKey(protobufBytes: try reader.readLong(maximum: Self.maximumIdentityKeyLength, "identity key"))
            peerID = try PeerID(bytes: try reader.readShort(maximum: Self.maximumPeerIDLength, "peer id"))
        } catch let error as ChatCryptoError {
            throw error
        } catch {
            throw ChatCryptoError(.malformedInput, "bundle identity key or peer id does not parse", underlying: error)
        }
        sequence = try reader.readUInt64()
        createdAt = try reader.readUInt64()
        expiresAt = try reader.readUInt64()
        let suiteCount = Int(try reader.readUInt8())
        guard suiteCount >= 1, suiteCount <= Ciphersuite.allCases.count else {
            throw ChatCryptoError(.lengthExceeded, "bundle offers \(suiteCount) suites")
        }
        var suites: [SuiteKeys] = []
        for _ in 0..<suiteCount {
            let suite = try Ciphersuite(byte: try reader.readUInt8())
            guard !suites.contains(where: { $0.suite == suite }) else {
                throw ChatCryptoError(.malformedInput, "bundle lists suite \(suite) twice")
            }
            let ik = try DHPublicKey(curve: suite.curve, bytes: try reader.readShort(maximum: suite.curve.publicKeyLength, "IK_dh"))
            let ikCreated = try reader.readUInt64()
            let ikSignature = try reader.readBytes(count: signatureLength)
            let spkID = try reader.readUInt32()
            let spk = try DHPublicKey(curve: suite.curve, bytes: try reader.readShort(maximum: suite.curve.publicKeyLength, "SPK"))
            let spkExpires = try reader.readUInt64()
            let spkSignature = try reader.readBytes(count: signatureLength)
            var kem: KEMPreKeyEntry?
            if try reader.readBool() {
                let id = try reader.readUInt32()
                let publicKey = try reader.readLong(maximum: KEMPreKey.publicKeyLength, "PQSPK")
                guard publicKey.count == KEMPreKey.publicKeyLength else {
                    throw ChatCryptoError(.invalidKey, "ML-KEM-768 public key must be \(KEMPreKey.publicKeyLength) bytes")
                }
                kem = KEMPreKeyEntry(id: id, publicKey: publicKey, expiresAt: try reader.readUInt64(), signature: try reader.readBytes(count: signatureLength))
            }
            guard (kem != nil) == suite.usesKEM else {
                throw ChatCryptoError(.malformedInput, "suite \(suite) \(suite.usesKEM ? "lacks" : "must not carry") a KEM prekey")
            }
            suites.append(SuiteKeys(
                suite: suite, identityDHKey: ik, identityDHKeyCreatedAt: ikCreated, identityBindingSignature: ikSignature,
                signedPreKeyID: spkID, signedPreKey: spk, signedPreKeyExpiresAt: spkExpires, signedPreKeySignature: spkSignature,
                kemPreKey: kem))
        }
        self.suites = suites
        let oneTimeCount = Int(try reader.readUInt16())
        guard oneTimeCount <= Self.maximumOneTimePreKeys else {
            throw ChatCryptoError(.lengthExceeded, "\(oneTimeCount) one-time prekeys exceed \(Self.maximumOneTimePreKeys)")
        }
        var oneTime: [OneTimePreKeyEntry] = []
        for _ in 0..<oneTimeCount {
            let suite = try Ciphersuite(byte: try reader.readUInt8())
            let id = try reader.readUInt32()
            let key = try DHPublicKey(curve: suite.curve, bytes: try reader.readShort(maximum: suite.curve.publicKeyLength, "OPK"))
            oneTime.append(OneTimePreKeyEntry(suite: suite, id: id, publicKey: key))
        }
        oneTimePreKeys = oneTime
        devices = try DeviceList(parsing: &reader)
        let addressCount = Int(try reader.readUInt8())
        guard addressCount <= Self.maximumMailboxAddresses else {
            throw ChatCryptoError(.lengthExceeded, "\(addressCount) mailbox addresses exceed \(Self.maximumMailboxAddresses)")
        }
        var addresses: [[UInt8]] = []
        for _ in 0..<addressCount {
            addresses.append(try reader.readLong(maximum: Self.maximumMailboxAddressLength, "mailbox address"))
        }
        mailboxAddresses = addresses
        let bodyLength = reader.offset
        signature = try reader.readBytes(count: signatureLength)
        try reader.expectEnd()
        signedBody = Array(bytes[0..<bodyLength])
    }

    /// Checks the PeerID, every signature and every expiry (X3DH §3.3: "Alice verifies the
    /// prekey signature"). Throws `.peerIDMismatch`, `.invalidSignature`, `.unsupportedKey`-like
    /// `.invalidKey` for a non-Ed25519 identity, or `.expired`.
    public func verify(now: UInt64) throws {
        guard identityKey.keyType == .ed25519 else {
            throw ChatCryptoError(.invalidKey, "bundle identity key is \(identityKey.keyType); Ed25519 required")
        }
        guard peerID.matches(identityKey) else {
            throw ChatCryptoError(.peerIDMismatch, "bundle PeerID \(peerID) is not its identity key's")
        }
        guard identityKey.verify(signature: signature, for: Labels.bundle + signedBody) else {
            throw ChatCryptoError(.invalidSignature, "bundle signature does not verify")
        }
        for entry in suites {
            guard identityKey.verify(
                signature: entry.identityBindingSignature,
                for: IdentityDHKey.bindingMessage(suite: entry.suite, publicKey: entry.identityDHKey, createdAt: entry.identityDHKeyCreatedAt))
            else { throw ChatCryptoError(.invalidSignature, "identity DH key binding for \(entry.suite) does not verify") }
            guard identityKey.verify(
                signature: entry.signedPreKeySignature,
                for: SignedPreKey.signedMessage(suite: entry.suite, id: entry.signedPreKeyID, publicKey: entry.signedPreKey, expiresAt: entry.signedPreKeyExpiresAt))
            else { throw ChatCryptoError(.invalidSignature, "signed prekey signature for \(entry.suite) does not verify") }
            if let kem = entry.kemPreKey {
                guard identityKey.verify(signature: kem.signature, for: KEMPreKey.signedMessage(id: kem.id, publicKey: kem.publicKey, expiresAt: kem.expiresAt))
                else { throw ChatCryptoError(.invalidSignature, "KEM prekey signature does not verify") }
            }
        }
        try devices.verify(with: identityKey)
        guard now < expiresAt else { throw ChatCryptoError(.expired, "bundle expired at \(expiresAt) ms") }
    }

    /// The keys for `suite`, if offered; expired prekeys are refused.
    func keys(for suite: Ciphersuite, now: UInt64) throws -> SuiteKeys {
        guard let entry = suites.first(where: { $0.suite == suite }) else {
            throw ChatCryptoError(.unsupportedSuite, "bundle does not offer suite \(suite)")
        }
        guard now < entry.signedPreKeyExpiresAt else {
            throw ChatCryptoError(.expired, "signed prekey \(entry.signedPreKeyID) expired")
        }
        if let kem = entry.kemPreKey, now >= kem.expiresAt {
            throw ChatCryptoError(.expired, "KEM prekey \(kem.id) expired")
        }
        return entry
    }

    /// The best suite both sides support, in `Ciphersuite.preferenceOrder`.
    public func preferredSuite(among ours: [Ciphersuite]) -> Ciphersuite? {
        Ciphersuite.preferenceOrder.first { suite in ours.contains(suite) && suites.contains { $0.suite == suite } }
    }
}
