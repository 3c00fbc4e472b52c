import Crypto
import Foundation
import LibP2P
import NIOCore
import Testing

/// Cacophony XX vectors (as shipped by mcginty/snow), run byte for byte through
/// `NoiseXXHandshake` and the transport `NoiseCipherState`s.
struct NoiseVectorTests {
    struct VectorFile: Decodable {
        var vectors: [Vector]
    }

    struct Vector: Decodable {
        struct Message: Decodable {
            var payload: String
            var ciphertext: String
        }

        var protocol_name: String
        var init_prologue: String
        var init_static: String
        var init_ephemeral: String
        var resp_prologue: String
        var resp_static: String
        var resp_ephemeral: String
        var handshake_hash: String
        var messages: [Message]
    }

    static let vectorURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/vectors/noise/cacophony-XX-25519.json")

    static func loadVectors() throws -> [Vector] {
        try JSONDecoder().decode(VectorFile.self, from: Data(contentsOf: vectorURL)).vectors
    }

    /// Every supported suite: the libp2p one plus the AES-GCM and SHA-512 variants.
    static let supportedNames = [
        "Noise_XX_25519_ChaChaPoly_SHA256",
        "Noise_XX_25519_ChaChaPoly_SHA512",
        "Noise_XX_25519_AESGCM_SHA256",
        "Noise_XX_25519_AESGCM_SHA512",
    ]

    @Test func vectorFileHasTheLibp2pSuite() throws {
        let names = try Self.loadVectors().map(\.protocol_name)
        for name in Self.supportedNames {
            #expect(names.contains(name))
        }
    }

    @Test(arguments: supportedNames)
    func cacophonyVector(_ name: String) throws {
        let vector = try #require(try Self.loadVectors().first { $0.protocol_name == name })
        let suite = try #require(NoiseCipherSuite(protocolName: name))
        var initiator = NoiseXXHandshake(
            role: .initiator,
            staticKey: try .init(rawRepresentation: noiseHex(vector.init_static)),
            ephemeralKey: try .init(rawRepresentation: noiseHex(vector.init_ephemeral)),
            prologue: noiseHex(vector.init_prologue),
            suite: suite
        )
        var responder = NoiseXXHandshake(
            role: .responder,
            staticKey: try .init(rawRepresentation: noiseHex(vector.resp_static)),
            ephemeralKey: try .init(rawRepresentation: noiseHex(vector.resp_ephemeral)),
            prologue: noiseHex(vector.resp_prologue),
            suite: suite
        )
        #expect(vector.messages.count > 3)

        // Handshake: messages 0 and 2 from the initiator, 1 from the responder.
        for (index, message) in vector.messages.prefix(3).enumerated() {
            let payload = noiseHex(message.payload)
            let expected = noiseHex(message.ciphertext)
            if index % 2 == 0 {
                #expect(try initiator.writeMessage(payload: payload) == expected, "message \(index)")
                #expect(try responder.readMessage(expected) == payload, "message \(index)")
            } else {
                #expect(try responder.writeMessage(payload: payload) == expected, "message \(index)")
                #expect(try initiator.readMessage(expected) == payload, "message \(index)")
            }
        }
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.handshakeHash == noiseHex(vector.handshake_hash))
        #expect(responder.handshakeHash == noiseHex(vector.handshake_hash))
        #expect(initiator.remoteStaticKey?.rawRepresentation == responder.localStaticKey.rawRepresentation)
        #expect(responder.remoteStaticKey?.rawRepresentation == initiator.localStaticKey.rawRepresentation)

        // Transport: directions keep alternating by message index (snow tests/vectors.rs),
        // so message 3 goes responder → initiator.
        var initiatorCiphers = try initiator.split()
        var responderCiphers = try responder.split()
        for (index, message) in vector.messages.enumerated().dropFirst(3) {
            let payload = noiseHex(message.payload)
            let expected = noiseHex(message.ciphertext)
            if index % 2 == 0 {
                #expect(try initiatorCiphers.send.encryptWithAD([], plaintext: payload) == expected, "message \(index)")
                #expect(try responderCiphers.receive.decryptWithAD([], ciphertext: expected) == payload, "message \(index)")
            } else {
                #expect(try responderCiphers.send.encryptWithAD([], plaintext: payload) == expected, "message \(index)")
                #expect(try initiatorCiphers.receive.decryptWithAD([], ciphertext: expected) == payload, "message \(index)")
            }
        }
    }

    /// The ByteBuffer transport API produces the same bytes as EncryptWithAD.
    @Test func byteBufferTransportMatchesVector() throws {
        let name = "Noise_XX_25519_ChaChaPoly_SHA256"
        let vector = try #require(try Self.loadVectors().first { $0.protocol_name == name })
        var initiator = NoiseXXHandshake(
            role: .initiator,
            staticKey: try .init(rawRepresentation: noiseHex(vector.init_static)),
            ephemeralKey: try .init(rawRepresentation: noiseHex(vector.init_ephemeral)),
            prologue: noiseHex(vector.init_prologue)
        )
        var responder = NoiseXXHandshake(
            role: .responder,
            staticKey: try .init(rawRepresentation: noiseHex(vector.resp_static)),
            ephemeralKey: try .init(rawRepresentation: noiseHex(vector.resp_ephemeral)),
            prologue: noiseHex(vector.resp_prologue)
        )
        _ = try responder.readMessage(initiator.writeMessage(payload: noiseHex(vector.messages[0].payload)))
        _ = try initiator.readMessage(responder.writeMessage(payload: noiseHex(vector.messages[1].payload)))
        _ = try responder.readMessage(initiator.writeMessage(payload: noiseHex(vector.messages[2].payload)))
        var initiatorCiphers = try initiator.split()
        var responderCiphers = try responder.split()
        for (index, message) in vector.messages.enumerated().dropFirst(3) {
            let payload = ByteBuffer(bytes: noiseHex(message.payload))
            let expected = ByteBuffer(bytes: noiseHex(message.ciphertext))
            var output = ByteBuffer()
            if index % 2 == 0 {
                try initiatorCiphers.send.encrypt(payload, appendingTo: &output)
                #expect(output == expected)
                #expect(try responderCiphers.receive.decrypt(expected) == payload)
            } else {
                try responderCiphers.send.encrypt(payload, appendingTo: &output)
                #expect(output == expected)
                #expect(try initiatorCiphers.receive.decrypt(expected) == payload)
            }
        }
    }
}

/// Bytes from a hex string (test vectors only; traps on malformed input).
func noiseHex(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
