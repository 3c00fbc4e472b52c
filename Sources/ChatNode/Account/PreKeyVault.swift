import ChatCrypto
import ChatStore
import Foundation
import LibP2P

/// Our X3DH private keys as stored in the home's database: loads them into `LocalPreKeys`,
/// generates them at `init`, rotates signed prekeys and mints a fresh one-time prekey per
/// invite.
///
/// The store keeps opaque blobs (`PreKeyRecord.keyData`). Identity and one-time keys are
/// ChatCrypto's `storageRepresentation`; a record of kind `signed` starts with a tag byte
/// (`0x01` signed DH prekey, `0x02` ML-KEM-768 prekey) because the store has no KEM kind.
struct PreKeyVault: Sendable {
    static let signedTag: UInt8 = 0x01
    static let kemTag: UInt8 = 0x02
    /// How long a signed prekey is offered.
    static let signedPreKeyValidity: Duration = .seconds(30 * 24 * 3600)
    /// Suites we offer, in ChatCrypto's order of preference.
    static let suites: [Ciphersuite] = [.x25519, .p256, .x25519MLKEM768]

    let database: ChatDatabase

    /// All our keys (unconsumed one-time prekeys only).
    func load() async throws -> LocalPreKeys {
        var keys = LocalPreKeys(identityDHKeys: [], signedPreKeys: [])
        do {
            for record in try await database.preKeys(kind: .identity) {
                keys.identityDHKeys.append(try IdentityDHKey(storageRepresentation: Array(record.keyData)))
            }
            for record in try await database.preKeys(kind: .signed) {
                let bytes = Array(record.keyData)
                guard let tag = bytes.first else { continue }
                switch tag {
                case Self.signedTag: keys.signedPreKeys.append(try SignedPreKey(storageRepresentation: Array(bytes.dropFirst())))
                case Self.kemTag: keys.kemPreKeys.append(try KEMPreKey(storageRepresentation: Array(bytes.dropFirst())))
                default: continue
                }
            }
            for record in try await database.preKeys(kind: .oneTime) where !record.keyData.isEmpty {
                keys.oneTimePreKeys.append(try OneTimePreKey(storageRepresentation: Array(record.keyData)))
            }
        } catch let error as ChatCryptoError {
            throw ChatNodeError(.notInitialized, "stored prekeys do not decode; the home's database is damaged", underlying: error)
        }
        return keys
    }

    /// Generates and stores identity DH keys and signed prekeys for every suite, unless they exist.
    func ensureGenerated(now: Date) async throws {
        guard try await database.preKeys(kind: .identity).isEmpty else { return }
        let nowMS = now.unixMilliseconds
        let keys = try LocalPreKeys.generate(
            suites: Self.suites, now: nowMS, validity: UInt64(Self.signedPreKeyValidity.components.seconds) * 1000,
            oneTimePreKeyCount: 0)
        for key in keys.identityDHKeys {
            try await database.savePreKey(PreKeyRecord(
                kind: .identity, id: UInt32(key.suite.rawValue), suite: key.suite.rawValue,
                keyData: Data(key.storageRepresentation), createdAt: now))
        }
        try await saveSigned(keys, now: now)
    }

    /// Makes sure every suite's signed prekey (and the KEM prekey) stays valid until `until`,
    /// generating new ones when needed. Old keys stay for late first messages until they expire.
    func ensureSignedPreKeysValid(until: Date, now: Date) async throws {
        let current = try await load()
        let untilMS = until.unixMilliseconds
        let stale = Self.suites.contains { (current.currentSignedPreKey(for: $0)?.expiresAt ?? 0) < untilMS }
            || (current.currentKEMPreKey?.expiresAt ?? 0) < untilMS
        guard stale else { return }
        var nextID = try await database.nextPreKeyID(kind: .signed)
        let expires = now.unixMilliseconds + UInt64(Self.signedPreKeyValidity.components.seconds) * 1000
        var fresh = LocalPreKeys(identityDHKeys: [], signedPreKeys: [])
        for suite in Self.suites {
            fresh.signedPreKeys.append(.generate(suite: suite, id: max(nextID, 1), expiresAt: max(expires, untilMS)))
            nextID = max(nextID, 1) + 1
        }
        do {
            fresh.kemPreKeys.append(try .generate(id: nextID, expiresAt: max(expires, untilMS)))
        } catch {
            throw ChatNodeError(.notInitialized, "cannot generate an ML-KEM-768 prekey", underlying: error)
        }
        try await saveSigned(fresh, now: now)
    }

    /// Generates and stores one fresh one-time prekey per suite, for one invite's bundle.
    func mintOneTimePreKeys(now: Date) async throws -> [OneTimePreKey] {
        var id = max(try await database.nextPreKeyID(kind: .oneTime), 1)
        var minted: [OneTimePreKey] = []
        for suite in Self.suites {
            let key = OneTimePreKey.generate(suite: suite, id: id)
            try await database.savePreKey(PreKeyRecord(
                kind: .oneTime, id: id, suite: suite.rawValue, keyData: Data(key.storageRepresentation), createdAt: now))
            minted.append(key)
            id += 1
        }
        return minted
    }

    private func saveSigned(_ keys: LocalPreKeys, now: Date) async throws {
        for key in keys.signedPreKeys {
            try await database.savePreKey(PreKeyRecord(
                kind: .signed, id: key.id, suite: key.suite.rawValue, keyData: Data([Self.signedTag] + key.storageRepresentation),
                createdAt: now, expiresAt: Date(unixMilliseconds: key.expiresAt)))
        }
        for key in keys.kemPreKeys {
            try await database.savePreKey(PreKeyRecord(
                kind: .signed, id: key.id, suite: Ciphersuite.x25519MLKEM768.rawValue, keyData: Data([Self.kemTag] + key.storageRepresentation),
                createdAt: now, expiresAt: Date(unixMilliseconds: key.expiresAt)))
        }
    }
}

extension Date {
    /// Milliseconds since 1970, the wire unit.
    var unixMilliseconds: UInt64 {
        UInt64(max(0, (timeIntervalSince1970 * 1000).rounded(.down)))
    }

    init(unixMilliseconds: UInt64) {
        self.init(timeIntervalSince1970: Double(unixMilliseconds) / 1000)
    }
}
