import LibP2P
import Multiformats

/// A one-line invite: who we are, where to reach us, and how to start an end-to-end session
/// with us (ARCHITECTURE.md Identity and keys; issue "Secure messaging core" §Delivery).
///
/// Binary form (protobuf, versioned):
/// ```
/// Invite { version=1 (varint) peer_id=2 (bytes) addresses=3 (repeated multiaddr bytes)
///          prekey_bundle=4 (bytes, ChatCrypto) mailboxes=5 (repeated opaque queue addresses)
///          created_at_ms=6 expires_at_ms=7 signature=15 (Ed25519 over the domain string and
///          the encoding of fields 1–7) }
/// ```
/// Text form: `p2pchat:` followed by the multibase base64url (`u…`) of the binary form.
public struct Invite: Hashable, Sendable {
    /// The current format version.
    public static let version: UInt64 = 1
    /// The text prefix.
    public static let textPrefix = "p2pchat:"
    /// Domain separation for the signature.
    static let signatureDomain = Array("p2pchat-invite/v1".utf8)
    /// The largest encoded invite accepted.
    public static let maxEncodedLength = 64 * 1024
    /// The most addresses or mailboxes accepted in one invite.
    public static let maxListEntries = 32
    /// How long a new invite stays valid by default.
    public static let defaultLifetime: Duration = .seconds(7 * 24 * 3600)

    /// The inviter.
    public var peerID: PeerID
    /// Where the inviter listens (without `/p2p/`).
    public var addresses: [Multiaddr]
    /// The inviter's signed prekey bundle (ChatCrypto encoding).
    public var prekeyBundle: [UInt8]
    /// Mailbox queue addresses where the inviter accepts envelopes while offline (opaque here).
    public var mailboxes: [[UInt8]]
    /// When the invite was made, in Unix milliseconds.
    public var createdAtMilliseconds: UInt64
    /// When it stops being accepted, in Unix milliseconds.
    public var expiresAtMilliseconds: UInt64
    /// The inviter's signature.
    public private(set) var signature: [UInt8]

    /// Makes and signs an invite.
    public init(
        identity: IdentityKeyPair, addresses: [Multiaddr], prekeyBundle: [UInt8], mailboxes: [[UInt8]],
        createdAtMilliseconds: UInt64, lifetime: Duration = Invite.defaultLifetime
    ) throws {
        self.peerID = identity.peerID
        self.addresses = addresses.map { $0.removingPeerID() }
        self.prekeyBundle = prekeyBundle
        self.mailboxes = mailboxes
        self.createdAtMilliseconds = createdAtMilliseconds
        self.expiresAtMilliseconds = createdAtMilliseconds + UInt64(lifetime.components.seconds) * 1000
        self.signature = []
        do {
            self.signature = try identity.sign(Self.signatureDomain + unsignedEncoding())
        } catch {
            throw ChatNodeError(.invalidInvite, "cannot sign the invite", underlying: error)
        }
    }

    /// Parses and verifies an invite's text form at time `nowMilliseconds`: the signature must
    /// be the inviter's, nothing may be altered, and it must not have expired.
    public init(text: String, nowMilliseconds: UInt64) throws {
        let trimmed = text.trimmingWhitespace()
        guard trimmed.hasPrefix(Self.textPrefix) else {
            throw ChatNodeError(.malformedInput, "not an invite: it should start with \(Self.textPrefix)")
        }
        let encoded = String(trimmed.dropFirst(Self.textPrefix.count))
        guard encoded.utf8.count <= Self.maxEncodedLength * 2 else {
            throw ChatNodeError(.malformedInput, "invite is too long")
        }
        let bytes: [UInt8]
        do {
            bytes = try Multibase.decode(encoded).bytes
        } catch {
            throw ChatNodeError(.malformedInput, "invite is damaged (not valid multibase): copy the whole line", underlying: error)
        }
        try self.init(binary: bytes, nowMilliseconds: nowMilliseconds)
    }

    /// Parses and verifies the binary form.
    public init(binary bytes: [UInt8], nowMilliseconds: UInt64) throws {
        guard bytes.count <= Self.maxEncodedLength else {
            throw ChatNodeError(.malformedInput, "invite of \(bytes.count) bytes exceeds \(Self.maxEncodedLength)")
        }
        var version: UInt64?
        var peerBytes: [UInt8]?
        var addresses: [Multiaddr] = []
        var bundle: [UInt8] = []
        var mailboxes: [[UInt8]] = []
        var created: UInt64 = 0
        var expires: UInt64 = 0
        var signature: [UInt8] = []
        do {
            var reader = ProtobufReader(bytes)
            while let field = try reader.next() {
                switch field.number {
                case 1: version = try field.varint()
                case 2: peerBytes = try field.bytes()
                case 3:
                    guard addresses.count < Self.maxListEntries else { throw ChatNodeError(.limitExceeded, "too many addresses") }
                    addresses.append(try Multiaddr(bytes: try field.bytes()))
                case 4: bundle = try field.bytes()
                case 5:
                    guard mailboxes.count < Self.maxListEntries else { throw ChatNodeError(.limitExceeded, "too many mailboxes") }
                    mailboxes.append(try field.bytes())
                case 6: created = try field.varint()
                case 7: expires = try field.varint()
                case 15: signature = try field.bytes()
                default: continue
                }
            }
        } catch let error as ChatNodeError {
            throw error
        } catch {
            throw ChatNodeError(.malformedInput, "invite is damaged (it does not parse): copy the whole line, or ask for a new invite", underlying: error)
        }
        guard version == Self.version else {
            throw ChatNodeError(.malformedInput, "unsupported invite version \(version.map(String.init) ?? "none")")
        }
        guard let peerBytes, let peerID = try? PeerID(bytes: peerBytes) else {
            throw ChatNodeError(.malformedInput, "invite has no valid peer id")
        }
        self.peerID = peerID
        self.addresses = addresses
        self.prekeyBundle = bundle
        self.mailboxes = mailboxes
        self.createdAtMilliseconds = created
        self.expiresAtMilliseconds = expires
        self.signature = signature
        guard let key = peerID.embeddedPublicKey,
              key.verify(signature: signature, for: Self.signatureDomain + unsignedEncoding())
        else {
            throw ChatNodeError(.invalidInvite, "invite signature does not verify: it was altered or is not from \(peerID)")
        }
        guard nowMilliseconds <= expires else {
            throw ChatNodeError(.expiredInvite, "invite expired; ask for a new one")
        }
    }

    /// The signed fields, encoded.
    func unsignedEncoding() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, Self.version)
        writer.writeBytes(field: 2, peerID.bytes)
        for address in addresses { writer.writeBytes(field: 3, address.bytes) }
        writer.writeBytes(field: 4, prekeyBundle)
        for mailbox in mailboxes { writer.writeBytes(field: 5, mailbox) }
        writer.writeVarint(field: 6, createdAtMilliseconds)
        writer.writeVarint(field: 7, expiresAtMilliseconds)
        return writer.bytes
    }

    /// The binary form.
    public var binary: [UInt8] {
        var writer = ProtobufWriter()
        writer.writeBytes(field: 15, signature)
        return unsignedEncoding() + writer.bytes
    }

    /// The one-line text form.
    public var text: String {
        Self.textPrefix + Multibase.encode(binary, as: .base64url)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
