/// Our own private prekey material: identity DH keys, signed prekeys, KEM prekeys and one-time
/// prekeys (crypto.md §8.2). The store persists each key through its `storageRepresentation`.
///
/// A bundle is built from it (`PreKeyBundle.make`), and `SessionResponder` reads it to answer
/// prekey messages. Older signed prekeys may stay here for a grace period after rotation.
public struct LocalPreKeys: Sendable {
    /// One identity DH key per suite we offer.
    public var identityDHKeys: [IdentityDHKey]
    /// Signed prekeys, current and within their grace period.
    public var signedPreKeys: [SignedPreKey]
    /// ML-KEM-768 prekeys for suite 0x03.
    public var kemPreKeys: [KEMPreKey]
    /// Unused one-time prekeys.
    public var oneTimePreKeys: [OneTimePreKey]

    /// Collects existing keys (typically restored from storage).
    public init(
        identityDHKeys: [IdentityDHKey], signedPreKeys: [SignedPreKey],
        kemPreKeys: [KEMPreKey] = [], oneTimePreKeys: [OneTimePreKey] = []
    ) {
        self.identityDHKeys = identityDHKeys
        self.signedPreKeys = signedPreKeys
        self.kemPreKeys = kemPreKeys
        self.oneTimePreKeys = oneTimePreKeys
    }

    /// Generates fresh keys for `suites`: an identity DH key, a signed prekey valid for
    /// `validity` milliseconds, `oneTimePreKeyCount` one-time prekeys per suite, and a KEM
    /// prekey when suite 0x03 is offered.
    public static func generate(
        suites: [Ciphersuite] = [.x25519, .p256, .x25519MLKEM768], now: UInt64,
        validity: UInt64 = 7 * 24 * 3_600_000, oneTimePreKeyCount: Int = 10
    ) throws -> LocalPreKeys {
        var keys = LocalPreKeys(identityDHKeys: [], signedPreKeys: [])
        var nextID: UInt32 = 1
        for suite in suites {
            keys.identityDHKeys.append(.generate(suite: suite, createdAt: now))
            keys.signedPreKeys.append(.generate(suite: suite, id: nextID, expiresAt: now + validity))
            nextID += 1
            for _ in 0..<oneTimePreKeyCount {
                keys.oneTimePreKeys.append(.generate(suite: suite, id: nextID))
                nextID += 1
            }
            if suite.usesKEM {
                keys.kemPreKeys.append(try .generate(id: nextID, expiresAt: now + validity))
                nextID += 1
            }
        }
        return keys
    }

    /// Our identity DH key for `suite`, if we offer it.
    public func identityDHKey(for suite: Ciphersuite) -> IdentityDHKey? {
        identityDHKeys.first { $0.suite == suite }
    }

    /// The signed prekey to publish for `suite`: the one that expires last.
    public func currentSignedPreKey(for suite: Ciphersuite) -> SignedPreKey? {
        signedPreKeys.filter { $0.suite == suite }.max { $0.expiresAt < $1.expiresAt }
    }

    /// The KEM prekey to publish: the one that expires last.
    public var currentKEMPreKey: KEMPreKey? {
        kemPreKeys.max { $0.expiresAt < $1.expiresAt }
    }

    /// Deletes a one-time prekey after a session consumed it (X3DH §3.4).
    public mutating func removeOneTimePreKey(id: UInt32) {
        oneTimePreKeys.removeAll { $0.id == id }
    }
}
