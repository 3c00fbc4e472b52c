import Crypto
import Foundation
import LibP2P

/// The initiator's first message(s) (X3DH §3.3 "initial message"; crypto.md §8.3 step 4):
/// everything the responder needs to derive the session, plus the first ratchet message.
///
/// Encoding (sealed with HPKE before it leaves the device, so a mailbox never sees `IK_A`):
/// ```
/// version u8 | suite u8 | identity key protobuf (len u16) | IK_dh_A (len u8) | IK_dh created u64
/// | idbind sig (64) | EK_A (len u8) | SPK id u32 | has OPK u8 [| OPK id u32]
/// | has KEM u8 [| PQSPK id u32 | KEM ciphertext (len u16)] | reply address (len u16)
/// | ratchet message (rest)
/// ```
public struct PreKeyMessage: Sendable {
    /// Current encoding version.
    public static let version: UInt8 = 1
    /// Largest reply-address blob.
    public static let maximumReplyAddressLength = 1024
    static let maximumIdentityKeyLength = 256

    /// The negotiated suite.
    public let suite: Ciphersuite
    /// The initiator's libp2p identity key.
    public let identityKey: PublicKey
    /// The initiator's identity DH key, bound to `identityKey` by `identityBindingSignature`.
    public let identityDHKey: DHPublicKey
    public let identityDHKeyCreatedAt: UInt64
    public let identityBindingSignature: [UInt8]
    /// The initiator's ephemeral key `EK_A`; identifies the session for repeated prekey messages.
    public let baseKey: DHPublicKey
    public let signedPreKeyID: UInt32
    public let oneTimePreKeyID: UInt32?
    public let kemPreKeyID: UInt32?
    public let kemCiphertext: [UInt8]?
    /// Opaque blob the upper layer fills (the initiator's reply-queue address).
    public let replyAddress: [UInt8]
    let ratchetMessage: [UInt8]

    /// The initiator's PeerID, derived from its identity key.
    public var senderPeerID: PeerID { PeerID(publicKey: identityKey) }

    init(
        suite: Ciphersuite, identityKey: PublicKey, identityDHKey: DHPublicKey, identityDHKeyCreatedAt: UInt64,
        identityBindingSignature: [UInt8], baseKey: DHPublicKey, signedPreKeyID: UInt32, oneTimePreKeyID: UInt32?,
        kemPreKeyID: UInt32?, kemCiphertext: [UInt8]?, replyAddress: [UInt8], ratchetMessage: [UInt8]
    ) {
        self.suite = suite
        self.identityKey = identityKey
        self.identityDHKey = identityDHKey
        self.identityDHKeyCreatedAt = identityDHKeyCreatedAt
        self.identityBindingSignature = identityBindingSignature
        self.baseKey = baseKey
        self.signedPreKeyID = signedPreKeyID
        self.oneTimePreKeyID = oneTimePreKeyID
        self.kemPreKeyID = kemPreKeyID
        self.kemCiphertext = kemCiphertext
        self.replyAddress = replyAddress
        self.ratchetMessage = ratchetMessage
    }

    func with(ratchetMessage: [UInt8]) -> PreKeyMessage {
        PreKeyMessage(
            suite: suite, identityKey: identityKey, identityDHKey: identityDHKey, identityDHKeyCreatedAt: identityDHKeyCreatedAt,
            identityBindingSignature: identityBindingSignature, baseKey: baseKey, signedPreKeyID: signedPreKeyID,
            oneTimePreKeyID: oneTimePreKeyID, kemPreKeyID: kemPreKeyID, kemCiphertext: kemCiphertext,
            replyAddress: replyAddress, ratchetMessage: ratchetMessage)
    }

    func encode(into writer: inout ByteWriter) {
        writer.write(Self.version)
        writer.write(suite.rawValue)
        writer.write(long: identityKey.protobufBytes)
        writer.write(short: identityDHKey.bytes)
        writer.write(identityDHKeyCreatedAt)
        writer.write(raw: identityBindingSignature)
        writer.write(short: baseKey.bytes)
        writer.write(signedPreKeyID)
        writer.write(oneTimePreKeyID != nil)
        if let oneTimePreKeyID { writer.write(oneTimePreKeyID) }
        writer.write(kemPreKeyID != nil)
        if let kemPreKeyID, let kemCiphertext {
            writer.write(kemPreKeyID)
            writer.write(long: kemCiphertext)
        }
        writer.write(long: replyAddress)
        writer.write(raw: ratchetMessage)
    }

    var encoded: [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes
    }

    init(parsing bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, context: "prekey message")
        let version = try reader.readUInt8()
        guard version == Self.version else {
            throw ChatCryptoError(.unsupportedVersion, "prekey message version \(version); expected \(Self.version)")
        }
        suite = try Ciphersuite(byte: try reader.readUInt8())
        do {
            identityKey = try PublicKey(protobufBytes: try reader.readLong(maximum: Self.maximumIdentityKeyLength, "identity key"))
        } catch let error as ChatCryptoError {
            throw error
        } catch {
            throw ChatCryptoError(.malformedInput, "prekey message identity key does not parse", underlying: error)
        }
        let curve = suite.curve
        identityDHKey = try DHPublicKey(curve: curve, bytes: try reader.readShort(maximum: curve.publicKeyLength, "IK_dh"))
        identityDHKeyCreatedAt = try reader.readUInt64()
        identityBindingSignature = try reader.readBytes(count: signatureLength)
        baseKey = try DHPublicKey(curve: curve, bytes: try reader.readShort(maximum: curve.publicKeyLength, "EK"))
        signedPreKeyID = try reader.readUInt32()
        oneTimePreKeyID = try reader.readBool() ? try reader.readUInt32() : nil
        if try reader.readBool() {
            kemPreKeyID = try reader.readUInt32()
            let ciphertext = try reader.readLong(maximum: KEMPreKey.ciphertextLength, "KEM ciphertext")
            guard ciphertext.count == KEMPreKey.ciphertextLength else {
                throw ChatCryptoError(.malformedInput, "ML-KEM-768 ciphertext must be \(KEMPreKey.ciphertextLength) bytes")
            }
            kemCiphertext = ciphertext
        } else {
            kemPreKeyID = nil
            kemCiphertext = nil
        }
        guard (kemCiphertext != nil) == suite.usesKEM else {
            throw ChatCryptoError(.malformedInput, "suite \(suite) \(suite.usesKEM ? "needs" : "must not carry") a KEM ciphertext")
        }
        replyAddress = try reader.readLong(maximum: Self.maximumReplyAddressLength, "reply address")
        ratchetMessage = reader.readRest()
    }

    /// Bytes the prekey wrapping adds around a ratchet message: fields, HPKE `enc` and tag.
    var sealingOverhead: Int {
        encoded.count - ratchetMessage.count + suite.curve.hpkeEncapsulatedKeyLength + AEAD.tagLength
    }

    // MARK: HPKE (RFC 9180 base mode)

    static func hpkeInfo(suite: Ciphersuite) -> Data { Data(Labels.preKeyHPKE + [suite.rawValue]) }

    /// Seals to the responder's identity DH key: `enc ‖ HPKE ciphertext`.
    func sealed(to recipient: DHPublicKey, associatedData: [UInt8]) throws -> [UInt8] {
        do {
            var sender: HPKE.Sender
            switch recipient.curve {
            case .x25519:
                sender = try HPKE.Sender(
                    recipientKey: Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.bytes),
                    ciphersuite: suite.hpkeCiphersuite, info: Self.hpkeInfo(suite: suite))
            case .p256:
                sender = try HPKE.Sender(
                    recipientKey: P256.KeyAgreement.PublicKey(compressedRepresentation: recipient.bytes),
                    ciphersuite: suite.hpkeCiphersuite, info: Self.hpkeInfo(suite: suite))
            }
            let ciphertext = try sender.seal(encoded, authenticating: associatedData)
            return [UInt8](sender.encapsulatedKey) + [UInt8](ciphertext)
        } catch {
            throw ChatCryptoError(.cryptoFailure, "HPKE seal failed", underlying: error)
        }
    }

    /// Opens `enc ‖ ciphertext` with one of our identity DH keys; nil if it was not sealed to it,
    /// a thrown error if it was but the content is malformed or names another suite.
    static func open(_ bytes: [UInt8], with key: IdentityDHKey, associatedData: [UInt8]) throws -> PreKeyMessage? {
        let encLength = key.suite.curve.hpkeEncapsulatedKeyLength
        guard bytes.count > encLength + AEAD.tagLength else { return nil }
        let enc = Data(bytes[0..<encLength])
        let ciphertext = bytes[encLength...]
        let info = hpkeInfo(suite: key.suite)
        let plaintext: Data
        do {
            switch key.privateKey.backing {
            case .x25519(let privateKey):
                var recipient = try HPKE.Recipient(privateKey: privateKey, ciphersuite: key.suite.hpkeCiphersuite, info: info, encapsulatedKey: enc)
                plaintext = try recipient.open(ciphertext, authenticating: associatedData)
            case .p256(let privateKey):
                var recipient = try HPKE.Recipient(privateKey: privateKey, ciphersuite: key.suite.hpkeCiphersuite, info: info, encapsulatedKey: enc)
                plaintext = try recipient.open(ciphertext, authenticating: associatedData)
            }
        } catch {
            return nil
        }
        let message = try PreKeyMessage(parsing: [UInt8](plaintext))
        guard message.suite == key.suite else {
            throw ChatCryptoError(.unsupportedSuite, "prekey message for suite \(message.suite) sealed under suite \(key.suite)")
        }
        return message
    }
}
