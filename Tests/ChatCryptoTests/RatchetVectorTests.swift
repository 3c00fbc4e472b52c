import Foundation
import Testing
@testable import ChatCrypto

/// Recomputes, byte for byte, the X3DH and DR-HE vectors written by an independent Python
/// implementation (`Vectors/generate_vectors.py`, pyca/cryptography).
@Suite struct RatchetVectorTests {
    struct File: Decodable { let vectors: [Vector] }
    struct Vector: Decodable {
        let suite: UInt8
        let private_keys: [String: String]
        let public_keys: [String: String]
        let peer_a: String
        let peer_b: String
        let kem_shared_secret: String?
        let x3dh: X3DHOutput
        let associated_data: String
        let messages: [Message]
    }
    struct X3DHOutput: Decodable { let dh: [String]; let sk: String; let hka: String; let nhkb: String }
    struct Message: Decodable { let sender: String; let plaintext: String; let header_nonce: String; let body_nonce: String; let wire: String }

    static func load() throws -> [Vector] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/ratchet_vectors.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
    }

    @Test(arguments: [UInt8(1), 2, 3]) func matchesIndependentImplementation(suiteByte: UInt8) throws {
        let vector = try #require(try Self.load().first { $0.suite == suiteByte })
        let suite = try #require(Ciphersuite(rawValue: vector.suite))
        func key(_ name: String) throws -> DHPrivateKey {
            try DHPrivateKey(curve: suite.curve, rawRepresentation: [UInt8](hex: vector.private_keys[name]!))
        }
        for name in vector.public_keys.keys { #expect(try key(name).publicKey.bytes.hex == vector.public_keys[name]) }

        // X3DH from both sides.
        let spk = try key("bob_spk").publicKey, ik = try key("bob_ik").publicKey, opk = try key("bob_opk").publicKey
        let aliceDH = [
            try key("alice_ik").sharedSecret(with: spk), try key("alice_ek").sharedSecret(with: ik),
            try key("alice_ek").sharedSecret(with: spk), try key("alice_ek").sharedSecret(with: opk),
        ]
        let bobDH = [
            try key("bob_spk").sharedSecret(with: key("alice_ik").publicKey), try key("bob_ik").sharedSecret(with: key("alice_ek").publicKey),
            try key("bob_spk").sharedSecret(with: key("alice_ek").publicKey), try key("bob_opk").sharedSecret(with: key("alice_ek").publicKey),
        ]
        #expect(aliceDH.map(\.hex) == vector.x3dh.dh)
        #expect(bobDH.map(\.hex) == vector.x3dh.dh)
        let derived = X3DH.deriveKeys(
            suite: suite, dhOutputs: aliceDH, kemSharedSecret: vector.kem_shared_secret.map { [UInt8](hex: $0) },
            initiatorPeerID: [UInt8](hex: vector.peer_a), responderPeerID: [UInt8](hex: vector.peer_b))
        #expect(derived.sharedSecret.hex == vector.x3dh.sk)
        #expect(derived.headerKey.hex == vector.x3dh.hka)
        #expect(derived.nextHeaderKey.hex == vector.x3dh.nhkb)
        let ad = X3DH.associatedData(
            initiatorPeerID: [UInt8](hex: vector.peer_a), initiatorIdentityKey: try key("alice_ik").publicKey,
            responderPeerID: [UInt8](hex: vector.peer_b), responderIdentityKey: ik)
        #expect(ad.hex == vector.associated_data)

        // Alice's two messages.
        var aliceRandom = FixedRandom(keys: [try key("alice_ratchet0"), try key("alice_ratchet1")])
        var alice = try RatchetState(
            initiatorWithSuite: suite, sharedSecret: derived.sharedSecret, remoteRatchetKey: spk,
            sharedHeaderKey: derived.headerKey, sharedNextHeaderKey: derived.nextHeaderKey, random: &aliceRandom)
        let aliceMessages = vector.messages.filter { $0.sender == "alice" }
        for message in aliceMessages {
            aliceRandom.nonces = [[UInt8](hex: message.header_nonce), [UInt8](hex: message.body_nonce)]
            let wire = try alice.encrypt([UInt8](hex: message.plaintext), associatedData: ad, random: &aliceRandom)
            #expect(wire.hex == message.wire)
        }

        // Bob receives them out of order, then replies after his DH ratchet step.
        var bobRandom = FixedRandom(keys: [try key("bob_ratchet1")])
        var bob = RatchetState(
            responderWithSuite: suite, sharedSecret: derived.sharedSecret, ourRatchetKey: try key("bob_spk"),
            sharedHeaderKey: derived.headerKey, sharedNextHeaderKey: derived.nextHeaderKey)
        for message in aliceMessages.reversed() {
            let plaintext = try bob.decrypt([UInt8](hex: message.wire), associatedData: ad, now: 0, random: &bobRandom)
            #expect(plaintext.hex == message.plaintext)
        }
        let reply = try #require(vector.messages.first { $0.sender == "bob" })
        bobRandom.nonces = [[UInt8](hex: reply.header_nonce), [UInt8](hex: reply.body_nonce)]
        let replyWire = try bob.encrypt([UInt8](hex: reply.plaintext), associatedData: ad, random: &bobRandom)
        #expect(replyWire.hex == reply.wire)
        #expect(try alice.decrypt(replyWire, associatedData: ad, now: 0, random: &aliceRandom).hex == reply.plaintext)
    }
}
