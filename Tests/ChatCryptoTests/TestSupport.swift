import Foundation
@testable import ChatCrypto
import LibP2P

/// Randomness from fixed queues, for known-answer tests.
struct FixedRandom: RandomSource {
    var keys: [DHPrivateKey] = []
    var nonces: [[UInt8]] = []

    mutating func bytes(count: Int) -> [UInt8] {
        precondition(!nonces.isEmpty, "FixedRandom ran out of nonces")
        let next = nonces.removeFirst()
        precondition(next.count == count)
        return next
    }

    mutating func makeDHPrivateKey(curve: DHCurve) -> DHPrivateKey {
        precondition(!keys.isEmpty, "FixedRandom ran out of keys")
        return keys.removeFirst()
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// One party: libp2p identity, prekeys and published bundle.
struct Party {
    let identity: IdentityKeyPair
    var preKeys: LocalPreKeys
    let bundle: PreKeyBundle

    static let start: UInt64 = 1_700_000_000_000
    static let day: UInt64 = 24 * 3_600_000

    init(suites: [Ciphersuite] = [.x25519, .p256, .x25519MLKEM768], oneTimePreKeys: Int = 2) throws {
        identity = IdentityKeyPair.generate()
        preKeys = try LocalPreKeys.generate(suites: suites, now: Self.start, oneTimePreKeyCount: oneTimePreKeys)
        bundle = try PreKeyBundle.make(
            identity: identity, preKeys: preKeys, deviceID: [UInt8](repeating: 7, count: 16), sequence: 1,
            createdAt: Self.start, expiresAt: Self.start + 30 * Self.day, mailboxAddresses: [[1, 2, 3], Array("queue".utf8)])
    }

    func content(_ text: String, sequence: UInt64 = 1, at time: UInt64 = Party.start) throws -> PlainContent {
        try PlainContent(
            kind: .text, sender: identity.peerID, conversationID: [UInt8](repeating: 0xC0, count: 16), sequence: sequence,
            sentAt: time, messageID: PlainContent.makeMessageID(), body: Array(text.utf8))
    }
}

/// Alice starts a session with Bob and Bob accepts the first message.
func establish(suite: Ciphersuite = .x25519) throws -> (alice: Party, bob: Party, aliceSession: Session, bobSession: Session) {
    let alice = try Party()
    let bob = try Party()
    var aliceSession = try SessionInitiator.start(
        ourIdentity: alice.identity, ourIdentityDHKey: alice.preKeys.identityDHKey(for: suite)!, theirBundle: bob.bundle,
        suite: suite, replyAddress: [9, 9], now: Party.start)
    let first = try aliceSession.seal(content: alice.content("hello"), now: Party.start)
    let accepted = try SessionResponder.accept(envelope: first, ourIdentity: bob.identity, ourPreKeys: bob.preKeys, now: Party.start)
    return (alice, bob, aliceSession, accepted.session)
}

func text(_ content: PlainContent) -> String { String(decoding: content.body, as: UTF8.self) }
