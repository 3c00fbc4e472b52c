// ChatCrypto benchmark: sealed+opened messages per second with 1 KiB bodies in an ongoing
// session, next to the same per-message primitive calls timed bare.

import ChatCrypto
import Crypto
import Foundation
import LibP2P

/// Runs `messages` seal+open pairs (Alice → Bob, steady state: one chain step per message, no
/// DH step) and the bare primitives one such message costs: sender 2 HMAC + 1 HKDF + 2
/// AES-256-GCM seals (header, 2 KiB padded body); receiver 1 header open + 2 HMAC + 1 HKDF +
/// 1 body open. Returns both rates in messages per second; the goal is ≥ 70% of the second.
func chatCryptoBenchmark(messages: Int) throws -> (sealOpenPerSecond: Double, primitivesPerSecond: Double) {
    let start: UInt64 = 1_700_000_000_000
    let alice = IdentityKeyPair.generate(), bob = IdentityKeyPair.generate()
    let alicePreKeys = try LocalPreKeys.generate(suites: [.x25519], now: start, oneTimePreKeyCount: 1)
    let bobPreKeys = try LocalPreKeys.generate(suites: [.x25519], now: start, oneTimePreKeyCount: 1)
    let bundle = try PreKeyBundle.make(
        identity: bob, preKeys: bobPreKeys, deviceID: [UInt8](repeating: 1, count: 16), sequence: 1,
        createdAt: start, expiresAt: start + 86_400_000)
    var aliceSession = try SessionInitiator.start(
        ourIdentity: alice, ourIdentityDHKey: alicePreKeys.identityDHKey(for: .x25519)!, theirBundle: bundle,
        suite: .x25519, now: start)
    func content(_ sender: PeerID, _ sequence: UInt64) throws -> PlainContent {
        try PlainContent(
            kind: .text, sender: sender, conversationID: [UInt8](repeating: 3, count: 16), sequence: sequence, sentAt: start,
            messageID: [UInt8](repeating: 4, count: 16), body: [UInt8](repeating: 0x61, count: 1024))
    }
    let first = try aliceSession.seal(content: content(alice.peerID, 0), now: start)
    var bobSession = try SessionResponder.accept(envelope: first, ourIdentity: bob, ourPreKeys: bobPreKeys, now: start).session
    _ = try aliceSession.open(envelope: bobSession.seal(content: content(bob.peerID, 0), now: start), now: start)

    let body = try content(alice.peerID, 1)
    var checksum = 0
    let clock = ContinuousClock()
    let sessionStart = clock.now
    for _ in 0..<messages {
        let envelope = try aliceSession.seal(content: body, now: start)
        checksum &+= try bobSession.open(envelope: envelope, now: start).body.count
    }
    let sessionElapsed = clock.now - sessionStart

    // The same primitive calls, bare.
    var chainKey = SymmetricKey(size: .bits256)
    let headerKey = SymmetricKey(size: .bits256)
    let header = [UInt8](repeating: 7, count: 40)
    let paddedBody = [UInt8](repeating: 0x61, count: 2048 - 2 - 12 - 56 - 12 - 16)
    let ad = [UInt8](repeating: 9, count: 110)
    let primitivesStart = clock.now
    for _ in 0..<messages {
        for _ in 0..<2 {  // sender chain step, then receiver chain step
            let messageKey = HMAC<SHA256>.authenticationCode(for: [0x01], using: chainKey)
            chainKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: [0x02], using: chainKey))
            let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: messageKey), info: Array("msg/v1".utf8) + [1], outputByteCount: 32)
            let sealedHeader = try AES.GCM.seal(header, using: headerKey, nonce: AES.GCM.Nonce(), authenticating: ad)
            let sealedBody = try AES.GCM.seal(paddedBody, using: key, nonce: AES.GCM.Nonce(), authenticating: ad)
            checksum &+= sealedHeader.ciphertext.count &+ sealedBody.ciphertext.count
        }
    }
    let primitivesElapsed = clock.now - primitivesStart
    precondition(checksum != 0)
    func perSecond(_ duration: Duration) -> Double {
        Double(messages) / (Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
    return (perSecond(sessionElapsed), perSecond(primitivesElapsed))
}
