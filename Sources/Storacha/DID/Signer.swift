import Crypto
import IPLD
import LibP2P
import Multiformats

/// A principal that signs UCANs and receipts with an Ed25519 key (ucanto `@ucanto/principal`
/// `ed25519.Signer`).
///
/// Made from our libp2p ``IdentityKeyPair`` (so the did:key is the same key as the PeerID), from
/// a raw seed (the blob-derived `http/put` key, test keys), or from a ucanto signer archive.
/// ``did`` may be overridden (`withDID`) for services that sign as a did:web with a did:key's
/// key; ``keyDID`` is always the key itself. Private key bytes stay inside this wrapper except
/// through ``archive`` (test fixtures) and ``archiveValue`` (the blob-derived key fact that the
/// protocol publishes on purpose).
public struct Signer: Sendable, CustomStringConvertible {
    /// The multicodec of Ed25519 private keys (`ed25519-priv` = 0x1300, varint `80 26`).
    public static let ed25519PrivateCode: UInt64 = 0x1300
    /// Length of an Ed25519 seed.
    public static let seedLength = 32

    private enum Backing: Sendable {
        case identity(IdentityKeyPair)
        case key(Curve25519.Signing.PrivateKey)
    }

    private let backing: Backing
    /// The DID this signer signs as (its did:key, unless overridden with ``withDID(_:)``).
    public let did: DID
    /// The did:key of the signing key.
    public let keyDID: DID

    /// A signer for our libp2p identity: its did:key has the PeerID's public key.
    public init(identity: IdentityKeyPair) throws {
        backing = .identity(identity)
        keyDID = try DID(publicKey: identity.publicKey)
        did = keyDID
    }

    /// A signer for a 32-byte Ed25519 seed (RFC 8032 §5.1.5).
    public init(ed25519Seed seed: [UInt8]) throws {
        guard seed.count == Self.seedLength else {
            throw StorachaError(.malformedInput, "Ed25519 seed must be \(Self.seedLength) bytes, got \(seed.count)")
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw StorachaError(.malformedInput, "invalid Ed25519 seed", underlying: error)
        }
        backing = .key(key)
        keyDID = try DID(ed25519PublicKey: Array(key.publicKey.rawRepresentation))
        did = keyDID
    }

    private init(backing: Backing, did: DID, keyDID: DID) {
        self.backing = backing
        self.did = did
        self.keyDID = keyDID
    }

    /// The same key signing as `did` (ucanto `signer.withDID`; a service's did:web).
    public func withDID(_ did: DID) -> Signer {
        Signer(backing: backing, did: did, keyDID: keyDID)
    }

    /// The principal that can issue the `http/put` receipt for a blob: its seed is the last 32
    /// bytes of the blob's multihash (upload-service `upload-api/src/blob/lib.js deriveDID`).
    public static func derived(fromBlobDigest multihash: Multihash) throws -> Signer {
        let bytes = multihash.bytes
        guard bytes.count >= seedLength else {
            throw StorachaError(.malformedInput, "blob multihash shorter than \(seedLength) bytes")
        }
        return try Signer(ed25519Seed: Array(bytes.suffix(seedLength)))
    }

    /// Parses a ucanto signer archive: `M` + base64pad(`80 26` ‖ seed ‖ `ed 01` ‖ public key)
    /// (`@ucanto/principal` `ed25519.format`/`parse`).
    public init(parsingArchive text: String) throws {
        let bytes: [UInt8]
        do {
            let (base, decoded) = try Multibase.decode(text)
            guard base == .base64pad || base == .base64 else {
                throw StorachaError(.malformedInput, "signer archive must be base64 (M…)")
            }
            bytes = decoded
        } catch let error as StorachaError {
            throw error
        } catch {
            throw StorachaError(.malformedInput, "signer archive is not multibase", underlying: error)
        }
        try self.init(archiveBytes: bytes)
    }

    /// Parses the binary signer form `80 26` ‖ seed ‖ `ed 01` ‖ public key.
    public init(archiveBytes bytes: [UInt8]) throws {
        let privatePrefix = Varint.encode(Self.ed25519PrivateCode)
        let publicPrefix = Multicodec.ed25519Pub.varintBytes
        let expected = privatePrefix.count + Self.seedLength + publicPrefix.count + DID.ed25519KeyLength
        guard bytes.count == expected, bytes.starts(with: privatePrefix) else {
            throw StorachaError(.malformedInput, "signer archive is not an Ed25519 signer (\(bytes.count) bytes)")
        }
        let seed = Array(bytes[privatePrefix.count..<privatePrefix.count + Self.seedLength])
        let publicPart = Array(bytes[(privatePrefix.count + Self.seedLength)...])
        try self.init(ed25519Seed: seed)
        guard publicPart == keyDID.principalBytes else {
            throw StorachaError(.malformedInput, "signer archive: public key does not match the seed")
        }
    }

    /// The binary signer form `80 26` ‖ seed ‖ `ed 01` ‖ public key. Treat as secret.
    public var archiveBytes: [UInt8] {
        Varint.encode(Self.ed25519PrivateCode) + seed + keyDID.principalBytes
    }

    /// The text signer archive `M…`. Treat as secret.
    public var archive: String {
        Multibase.encode(archiveBytes, as: .base64pad)
    }

    /// The ucanto `toArchive()` data model `{id: did, keys: {did:key: signer bytes}}`, as the
    /// `http/put` task publishes it in `fct[0].keys` for the blob-derived key.
    public var archiveValue: IPLDValue {
        .map(["id": .string(did.string), "keys": .map([keyDID.string: .bytes(archiveBytes)])])
    }

    private var seed: [UInt8] {
        switch backing {
        case .key(let key):
            return Array(key.rawRepresentation)
        case .identity(let identity):
            // libp2p PrivateKey protobuf: 08 01 12 40 ‖ seed ‖ public key.
            return Array(identity.protobufBytes.suffix(2 * Self.seedLength).prefix(Self.seedLength))
        }
    }

    /// Signs `message` with Ed25519 and wraps it as a varsig.
    public func sign(_ message: [UInt8]) throws -> UCANSignature {
        let raw: [UInt8]
        switch backing {
        case .identity(let identity):
            raw = try identity.sign(message)
        case .key(let key):
            do {
                raw = Array(try key.signature(for: message))
            } catch {
                throw StorachaError(.unsupported, "Ed25519 signing failed", underlying: error)
            }
        }
        return try UCANSignature(ed25519: raw)
    }

    /// Names the signer by its DIDs only; the key is never printed.
    public var description: String {
        did == keyDID ? "Signer(\(did))" : "Signer(\(did) via \(keyDID))"
    }
}
