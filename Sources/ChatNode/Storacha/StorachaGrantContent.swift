import Foundation

/// The body of a control message that gives a contact deposit rights on one of our Storacha
/// spaces, or takes them back (ARCHITECTURE.md Mailboxes, "storacha space" kind). Sent inside
/// the encrypted session, so only the contact sees the delegation and its tag.
///
/// JSON: `{"v":1,"type":"storacha-grant","space":"did:key:…","tag":"<32 hex>",
/// "delegation":"<base64 archive CAR>","endpoint":{…}}` or
/// `{"v":1,"type":"storacha-revoke","space":"did:key:…"}`. The delegation's own `exp` is the
/// expiry; nothing in the JSON is trusted without verifying the delegation.
public struct StorachaGrantContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 1
    /// `type` of a grant.
    public static let grantType = "storacha-grant"
    /// `type` of a revocation.
    public static let revokeType = "storacha-revoke"
    /// The largest delegation archive accepted in a grant, in bytes.
    public static let maximumDelegationLength = 32 * 1024

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
    /// Where to deposit (grants only).
    public var endpoint: StorachaEndpoint?

    /// A grant of `delegation` (archive bytes) on `space`.
    public init(space: String, tag: Data, delegation: [UInt8], endpoint: StorachaEndpoint) {
        v = Self.version
        type = Self.grantType
        self.space = space
        self.tag = tag.map { String(format: "%02x", $0) }.joined()
        self.delegation = Data(delegation)
        self.endpoint = endpoint
    }

    /// A revocation of our grants on `space`.
    public init(revoking space: String) {
        v = Self.version
        type = Self.revokeType
        self.space = space
    }

    /// Parses a control body; anything but a version-1 Storacha grant or revocation is `.malformedInput`.
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
                  decoded.endpoint != nil
            else {
                throw ChatNodeError(.malformedInput, "Storacha grant lacks a 16-byte tag, a delegation or an endpoint")
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
