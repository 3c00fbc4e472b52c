import Crypto
import LibP2P
import Testing

/// The XX state machine with random keys: ordering, tampering, truncation and size limits.
struct NoiseXXHandshakeTests {
    typealias PrivateKey = Curve25519.KeyAgreement.PrivateKey

    static func makePair(prologue: [UInt8] = []) -> (NoiseXXHandshake, NoiseXXHandshake) {
        (
            NoiseXXHandshake(role: .initiator, staticKey: PrivateKey(), prologue: prologue),
            NoiseXXHandshake(role: .responder, staticKey: PrivateKey(), prologue: prologue)
        )
    }

    static func expectCode(_ code: LibP2PError.Code, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code), got no error")
        } catch let error as LibP2PError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("expected LibP2PError \(code), got \(error)")
        }
    }

    @Test func fullHandshakeAgreesOnKeysAndPayloads() throws {
        var (initiator, responder) = Self.makePair()
        let message1 = try initiator.writeMessage(payload: [])
        #expect(message1.count == 32)
        #expect(try responder.readMessage(message1) == [])
        #expect(initiator.remoteStaticKey == nil && responder.remoteStaticKey == nil)

        let payload2 = Array("responder payload".utf8)
        let message2 = try responder.writeMessage(payload: payload2)
        #expect(message2.count == 32 + 48 + payload2.count + 16)
        #expect(try initiator.readMessage(message2) == payload2)
        #expect(initiator.remoteStaticKey?.rawRepresentation == responder.localStaticKey.rawRepresentation)
        #expect(responder.remoteStaticKey == nil)
        #expect(!initiator.isComplete)

        let payload3 = Array("initiator payload".utf8)
        let message3 = try initiator.writeMessage(payload: payload3)
        #expect(message3.count == 48 + payload3.count + 16)
        #expect(initiator.isComplete)
        #expect(try responder.readMessage(message3) == payload3)
        #expect(responder.isComplete)
        #expect(responder.remoteStaticKey?.rawRepresentation == initiator.localStaticKey.rawRepresentation)
        #expect(initiator.handshakeHash == responder.handshakeHash)
        #expect(initiator.handshakeHash.count == 32)

        var initiatorCiphers = try initiator.split()
        var responderCiphers = try responder.split()
        let sealed = try initiatorCiphers.send.encryptWithAD([], plaintext: [1, 2, 3])
        #expect(try responderCiphers.receive.decryptWithAD([], ciphertext: sealed) == [1, 2, 3])
        let reply = try responderCiphers.send.encryptWithAD([], plaintext: [4, 5])
        #expect(try initiatorCiphers.receive.decryptWithAD([], ciphertext: reply) == [4, 5])
    }

    @Test func outOfOrderCallsThrow() throws {
        var (initiator, responder) = Self.makePair()
        Self.expectCode(.handshakeFailed) { _ = try responder.writeMessage(payload: []) }
        Self.expectCode(.handshakeFailed) { _ = try initiator.readMessage([UInt8](repeating: 9, count: 32)) }
        Self.expectCode(.handshakeFailed) { _ = try initiator.split() }

        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        Self.expectCode(.handshakeFailed) { _ = try initiator.writeMessage(payload: []) }
        _ = try initiator.readMessage(responder.writeMessage(payload: []))
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        Self.expectCode(.handshakeFailed) { _ = try initiator.writeMessage(payload: []) }
        Self.expectCode(.handshakeFailed) { _ = try responder.readMessage([UInt8](repeating: 0, count: 64)) }
        _ = try initiator.split()
        Self.expectCode(.handshakeFailed) { _ = try initiator.split() }
        #expect(initiator.isComplete)
    }

    @Test func tamperedMessageTwoFailsAndEndsTheHandshake() throws {
        var (initiator, responder) = Self.makePair()
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        let message2 = try responder.writeMessage(payload: [1, 2, 3])
        for index in [0, 40, message2.count - 1] {
            var copy = initiator
            var tampered = message2
            tampered[index] ^= 0x01
            do {
                _ = try copy.readMessage(tampered)
                Issue.record("tampered byte \(index) accepted")
            } catch let error as LibP2PError {
                #expect(error.code == .decryptionFailed || error.code == .handshakeFailed)
            }
            // After a failure the handshake is dead, even for the genuine message.
            Self.expectCode(.handshakeFailed) { _ = try copy.readMessage(message2) }
        }
        #expect(try initiator.readMessage(message2) == [1, 2, 3])
    }

    @Test func tamperedStaticKeyInMessageThreeFailsDecryption() throws {
        var (initiator, responder) = Self.makePair()
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        _ = try initiator.readMessage(responder.writeMessage(payload: []))
        var message3 = try initiator.writeMessage(payload: [7])
        message3[5] ^= 0x80
        Self.expectCode(.decryptionFailed) { _ = try responder.readMessage(message3) }
        #expect(!responder.isComplete)
    }

    @Test func truncatedMessagesThrow() throws {
        var (initiator, responder) = Self.makePair()
        let message1 = try initiator.writeMessage(payload: [])
        var shortResponder = responder
        Self.expectCode(.handshakeFailed) { _ = try shortResponder.readMessage(Array(message1.prefix(31))) }
        _ = try responder.readMessage(message1)

        var responderWithPayload = responder
        let message2 = try responder.writeMessage(payload: [])
        for length in [0, 32, 79, 95] {
            var copy = initiator
            Self.expectCode(.handshakeFailed) { _ = try copy.readMessage(Array(message2.prefix(length))) }
        }
        // Dropping only payload bytes leaves a well-sized message whose tag no longer matches.
        let message2WithPayload = try responderWithPayload.writeMessage(payload: [1, 2, 3, 4])
        var copy = initiator
        Self.expectCode(.decryptionFailed) { _ = try copy.readMessage(Array(message2WithPayload.dropLast())) }
    }

    @Test func mismatchedProloguesFail() throws {
        var initiator = NoiseXXHandshake(role: .initiator, staticKey: PrivateKey(), prologue: [1])
        var responder = NoiseXXHandshake(role: .responder, staticKey: PrivateKey(), prologue: [2])
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        let message2 = try responder.writeMessage(payload: [])
        Self.expectCode(.decryptionFailed) { _ = try initiator.readMessage(message2) }
    }

    @Test func messageSizeLimitIsEnforced() throws {
        #expect(NoiseXXHandshake.maxMessageLength == 65535)
        var (initiator, responder) = Self.makePair()
        // Message 1 carries e (32 bytes) and a plaintext payload.
        var tooBig = initiator
        Self.expectCode(.handshakeFailed) { _ = try tooBig.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32 + 1)) }
        var justFits = initiator
        #expect(try justFits.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 32)).count == 65535)

        Self.expectCode(.handshakeFailed) { _ = try responder.readMessage([UInt8](repeating: 0, count: 65536)) }
        _ = try initiator.writeMessage(payload: [])
        // Message 2: 32 + 48 + payload + 16.
        var (_, freshResponder) = Self.makePair()
        _ = try freshResponder.readMessage(Array(Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation))
        var tooBig2 = freshResponder
        Self.expectCode(.handshakeFailed) { _ = try tooBig2.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 96 + 1)) }
        #expect(try freshResponder.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 96)).count == 65535)
    }

    @Test func injectedEphemeralKeysAreDeterministic() throws {
        let initiatorStatic = PrivateKey()
        let ephemeral = PrivateKey()
        var first = NoiseXXHandshake(role: .initiator, staticKey: initiatorStatic, ephemeralKey: ephemeral)
        var second = NoiseXXHandshake(role: .initiator, staticKey: initiatorStatic, ephemeralKey: ephemeral)
        #expect(try first.writeMessage(payload: [1]) == second.writeMessage(payload: [1]))
        var random = NoiseXXHandshake(role: .initiator, staticKey: initiatorStatic)
        #expect(try random.writeMessage(payload: [1]) != first.handshakeHash)
        #expect(random.handshakeHash != first.handshakeHash)
    }
}
