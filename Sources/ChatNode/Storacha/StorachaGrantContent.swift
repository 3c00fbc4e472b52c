import Foundation
import Storacha

/// The body of a control message that gives a contact deposit rights on one of our Storacha
/// spaces, or takes them back (ARCHITECTURE.md Mailboxes, "storacha space" kind). Sent inside
/// the encrypted session, so only the contact sees the delegation, its deposit key and its tag.
///
/// JSON: `{"v":2,"type":"storacha-grant","space":"did:key:…","tag":"<32 hex>",
/// "delegation":"<base64 archive CAR>","depositKey":"M…","endpoint":{…}}` or
/// `{"v":2,"type":"storacha-revoke","space":"did:key:…"}`. `depositKey` is the ucanto signer
/// archive of the random key the delegation is for (``StorachaDepositKey``): the contact signs
/// deposits with it, never with its identity. Version 1 (delegations to the contact's identity)
/// is refused. The delegation's own `exp` is the expiry; nothing in the JSON is trusted without
/// verifying the delegation.
public struct StorachaGrantContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 2
    /// `type` of a grant.
    public static let grantType = "storacha-grant"
    /// `type` of a revocation.
    public static let revokeType = "storacha-revoke"
    /// The largest delegation archive accepted in a grant, in bytes.
    public static let maximumDelegationLength = 32 * 1024
    /// The longest deposit key text accepted (a signer archive is 96 characters).
    public static let maximumDepositKeyLength = 256

    /// Always `version`.
    public var v: Int
    /// ``grantType`` or ``revokeType``.
    public var type: String
    /// The space DID.
    public var space: String
    /// The deposit tag, hex (grants only).
    public var tag: String?
    /// The delegation archive (grants only).
    public var delegation: Data?
    /// The deposit key's signer archive, `M…` (grants only; secret).
    public var depositKey: String?
    /// Where to deposit (grants only).
    public var endpoint: StorachaEndpoint?

    /// A grant of `delegation` (archive bytes, for `depositKey`) on `space`.
    public init(space: String, tag: Data, delegation: [UInt8], depositKey: Signer, endpoint: StorachaEndpoint) {
        v = Self.version
        type = Self.grantType
        self.space = space
        self.tag = tag.map { String(format: "%02x", $0) }.joined()
        self.delegation = Data(delegation)
        self.depositKey = depositKey.archive
        self.endpoint = endpoint
    }

    /// A revocation of our grants on `space`.
    public init(revoking space: String) {
        v = Self.version
        type = Self.revokeType
        self.space = space
    }

    /// Parses a control body; anything but a version-2 Storacha grant or revocation is `.malformedInput`.
    public init(parsing body: String) throws {
        guard body.contains("\"storacha-"),
              let decoded = try? JSONDecoder().decode(StorachaGrantContent.self, from: Data(body.utf8)),
              decoded.v == Self.version
        else {
            throw ChatNodeError(.malformedInput, "control message is not a Storacha grant")
        }
        switch decoded.type {
        case Self.revokeType:
            break
        case Self.grantType:
            guard let tag = decoded.tagBytes, tag.count == StorachaDrop.tagLength,
                  let delegation = decoded.delegation, delegation.count <= Self.maximumDelegationLength,
                  decoded.endpoint != nil, let key = decoded.depositKey, key.utf8.count <= Self.maximumDepositKeyLength
            else {
                throw ChatNodeError(.malformedInput, "Storacha grant lacks a 16-byte tag, a delegation, a deposit key or an endpoint")
            }
        default:
            throw ChatNodeError(.malformedInput, "control message is not a Storacha grant")
        }
        self = decoded
    }

    /// Whether this takes rights back.
    public var isRevocation: Bool { type == Self.revokeType }

    /// The tag's bytes.
    public var tagBytes: Data? { tag.flatMap { Data(hexadecimal: $0) } }

    /// The JSON body.
    public var body: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }
}

extension StorachaGrantContent: CustomStringConvertible, CustomDebugStringConvertible {
    /// Names the grant without its secrets (the deposit key, the delegation bytes).
    public var description: String {
        "StorachaGrantContent(v\(v) \(type) \(space)\(depositKey == nil ? "" : ", deposit key redacted"))"
    }

    public var debugDescription: String { description }
}
