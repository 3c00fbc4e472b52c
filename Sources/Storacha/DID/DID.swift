import LibP2P
import Multiformats

/// A decentralized identifier as ucanto uses it: `did:key` for Ed25519 keys and any other
/// method (`did:web`, `did:mailto`) as an opaque name.
///
/// - did:key (w3c-ccg did-method-key): `did:key:z` + base58btc(`ed 01` ‖ 32-byte public key).
/// - Principal bytes (dag-ucan `src/did.js`; the `iss`/`aud` fields of a UCAN block): for an
///   Ed25519 did:key the multicodec-prefixed key `ed 01` ‖ key; for every other DID
///   `varint(0x0d1d)` = `9d 1a` followed by the UTF-8 of the DID without its `did:` prefix.
public struct DID: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The longest DID accepted, in UTF-8 bytes.
    public static let maxLength = 2048
    /// The multicodec that prefixes non-key DIDs in principal bytes (dag-ucan `DID_CORE`).
    public static let didCoreCode: UInt64 = 0x0d1d
    /// The length of an Ed25519 public key.
    public static let ed25519KeyLength = 32

    /// The full text, e.g. `did:key:z6Mk…` or `did:web:up.storacha.network`.
    public let string: String
    /// The Ed25519 public key, if this is an Ed25519 did:key.
    public let ed25519PublicKey: [UInt8]?

    /// Parses DID text: `did:<method>:<id>`, with did:key ids decoded and checked.
    ///
    /// - Throws: ``StorachaError`` `.malformedInput`, `.unsupported` for a did:key of another key type.
    public init(parsing text: String) throws {
        guard text.utf8.count <= Self.maxLength else {
            throw StorachaError(.limitExceeded, "DID of \(text.utf8.count) bytes exceeds \(Self.maxLength)")
        }
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "did", !parts[1].isEmpty, !parts[2].isEmpty else {
            throw StorachaError(.malformedInput, "not a DID: \(text.prefix(64))")
        }
        if parts[1] == "key" {
            let id = parts[2]
            guard id.first == "z" else {
                throw StorachaError(.malformedInput, "did:key must be base58btc (z…): \(text.prefix(64))")
            }
            let bytes: [UInt8]
            do {
                bytes = try Base58.decode(String(id.dropFirst()))
            } catch {
                throw StorachaError(.malformedInput, "did:key is not base58btc", underlying: error)
            }
            self = try DID(keyBytes: bytes)
        } else {
            self.string = text
            self.ed25519PublicKey = nil
        }
    }

    /// The did:key of an Ed25519 public key.
    public init(ed25519PublicKey key: [UInt8]) throws {
        guard key.count == Self.ed25519KeyLength else {
            throw StorachaError(.malformedInput, "Ed25519 public key must be 32 bytes, got \(key.count)")
        }
        self.ed25519PublicKey = key
        self.string = "did:key:z" + Base58.encode(Multicodec.ed25519Pub.varintBytes + key)
    }

    /// The did:key of a libp2p Ed25519 public key (the same key as the PeerID).
    public init(publicKey: PublicKey) throws {
        guard publicKey.keyType == .ed25519 else {
            throw StorachaError(.unsupported, "only Ed25519 keys have a did:key here, got \(publicKey.keyType)")
        }
        try self.init(ed25519PublicKey: publicKey.data)
    }

    /// A did:web DID for `host` (e.g. `up.storacha.network`).
    public static func web(_ host: String) throws -> DID {
        try DID(parsing: "did:web:" + host)
    }

    /// Parses principal bytes (the `iss`/`aud` encoding of a UCAN block; dag-ucan `did.js decode`).
    public init(principalBytes bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxLength + 4 else {
            throw StorachaError(.limitExceeded, "principal of \(bytes.count) bytes exceeds \(Self.maxLength)")
        }
        let code: UInt64
        let length: Int
        do {
            (code, length) = try Varint.decode(bytes)
        } catch {
            throw StorachaError(.malformedInput, "principal bytes do not start with a multicodec", underlying: error)
        }
        switch code {
        case Multicodec.ed25519Pub.rawValue:
            self = try DID(keyBytes: bytes)
        case Self.didCoreCode:
            guard let rest = String(validating: bytes[length...], as: UTF8.self) else {
                throw StorachaError(.malformedInput, "principal DID text is not UTF-8")
            }
            let did = try DID(parsing: "did:" + rest)
            guard did.ed25519PublicKey == nil else {
                throw StorachaError(.malformedInput, "a did:key must be encoded as its key, not as text")
            }
            self = did
        default:
            throw StorachaError(.unsupported, "principal multicodec 0x\(String(code, radix: 16)) (only Ed25519 keys and DIDs)")
        }
    }

    /// `ed 01` ‖ key bytes → an Ed25519 did:key.
    private init(keyBytes bytes: [UInt8]) throws {
        let prefix = Multicodec.ed25519Pub.varintBytes
        guard bytes.starts(with: prefix) else {
            throw StorachaError(.unsupported, "did:key is not an Ed25519 key (only ed25519-pub is supported)")
        }
        try self.init(ed25519PublicKey: Array(bytes.dropFirst(prefix.count)))
    }

    /// The principal bytes of this DID (dag-ucan `did.js encode`).
    public var principalBytes: [UInt8] {
        if let key = ed25519PublicKey { return Multicodec.ed25519Pub.varintBytes + key }
        return Varint.encode(Self.didCoreCode) + Array(string.utf8.dropFirst(4))
    }

    /// The DID method (`key`, `web`, `mailto`, …).
    public var method: Substring {
        string.split(separator: ":", maxSplits: 2)[1]
    }

    /// Whether this is a did:key.
    public var isKey: Bool { ed25519PublicKey != nil }

    /// Whether `signature` is an Ed25519 signature of `message` by this did:key's key.
    ///
    /// Always `false` for DIDs that are not keys; resolve them to a did:key first.
    public func verify(signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = ed25519PublicKey, let publicKey = try? PublicKey(keyType: .ed25519, data: key) else { return false }
        return publicKey.verify(signature: signature, for: message)
    }

    public var description: String { string }

    public static func < (lhs: DID, rhs: DID) -> Bool { lhs.string < rhs.string }
}

extension Multicodec {
    /// The unsigned-varint encoding of this code.
    var varintBytes: [UInt8] { Varint.encode(rawValue) }
}
