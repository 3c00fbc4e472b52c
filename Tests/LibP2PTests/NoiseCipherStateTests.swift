import Crypto
import LibP2P
import NIOCore
import Testing

/// CipherState nonce handling and the ByteBuffer transport API.
struct NoiseCipherStateTests {
    static let key = SymmetricKey(data: (0..<32).map { UInt8($0) })

    @Test func emptyKeyPassesBytesThrough() throws {
        var cipher = NoiseCipherState()
        #expect(!cipher.hasKey)
        #expect(try cipher.encryptWithAD([1], plaintext: [1, 2, 3]) == [1, 2, 3])
        #expect(try cipher.decryptWithAD([1], ciphertext: [4, 5]) == [4, 5])
        #expect(cipher.nonce == 0)
        var output = ByteBuffer()
        #expect(throws: LibP2PError.self) { try cipher.encrypt(ByteBuffer(bytes: [1]), appendingTo: &output) }
    }

    @Test func nonceIsFourZeroBytesThenLittleEndianCounter() throws {
        var cipher = NoiseCipherState(key: Self.key)
        cipher.setNonce(0x0102_0304_0506_0708)
        let sealed = try cipher.encryptWithAD([9], plaintext: [1, 2, 3])
        #expect(cipher.nonce == 0x0102_0304_0506_0709)
        let nonce = try ChaChaPoly.Nonce(data: [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1])
        let expected = try ChaChaPoly.seal([1, 2, 3] as [UInt8], using: Self.key, nonce: nonce, authenticating: [9] as [UInt8])
        #expect(sealed == Array(expected.ciphertext) + Array(expected.tag))
    }

    @Test func reservedNonceIsRefused() throws {
        var cipher = NoiseCipherState(key: Self.key)
        cipher.setNonce(UInt64.max - 1)
        let last = try cipher.encryptWithAD([], plaintext: [1])
        #expect(throws: LibP2PError.self) { _ = try cipher.encryptWithAD([], plaintext: [1]) }
        #expect(cipher.nonce == UInt64.max)

        var receiver = NoiseCipherState(key: Self.key)
        receiver.setNonce(UInt64.max - 1)
        #expect(try receiver.decryptWithAD([], ciphertext: last) == [1])
        #expect(throws: LibP2PError.self) { _ = try receiver.decryptWithAD([], ciphertext: last) }
    }

    @Test func failedDecryptionKeepsTheNonce() throws {
        var sender = NoiseCipherState(key: Self.key)
        var receiver = NoiseCipherState(key: Self.key)
        var sealed = try sender.encryptWithAD([], plaintext: Array("hello".utf8))
        sealed[0] ^= 1
        do {
            _ = try receiver.decryptWithAD([], ciphertext: sealed)
            Issue.record("tampered ciphertext accepted")
        } catch let error as LibP2PError {
            #expect(error.code == .decryptionFailed)
        }
        #expect(receiver.nonce == 0)
        sealed[0] ^= 1
        #expect(try receiver.decryptWithAD([], ciphertext: sealed) == Array("hello".utf8))
        #expect(receiver.nonce == 1)
        #expect(throws: LibP2PError.self) { _ = try receiver.decryptWithAD([], ciphertext: [UInt8](repeating: 0, count: 15)) }
    }

    @Test func wrongAssociatedDataFails() throws {
        var sender = NoiseCipherState(key: Self.key)
        var receiver = NoiseCipherState(key: Self.key)
        let sealed = try sender.encryptWithAD([1], plaintext: [2])
        #expect(throws: LibP2PError.self) { _ = try receiver.decryptWithAD([3], ciphertext: sealed) }
    }

    @Test func byteBufferApiRespectsReaderIndexAndAppends() throws {
        var sender = NoiseCipherState(key: Self.key)
        var receiver = NoiseCipherState(key: Self.key)
        var plaintext = ByteBuffer(bytes: [0xff, 0xff, 1, 2, 3])
        plaintext.moveReaderIndex(forwardBy: 2)
        var output = ByteBuffer(bytes: [0xaa])
        try sender.encrypt(plaintext, appendingTo: &output)
        #expect(output.readableBytes == 1 + 3 + 16)
        output.moveReaderIndex(forwardBy: 1)
        var opened = ByteBuffer(bytes: [0xbb])
        try receiver.decrypt(output, appendingTo: &opened)
        #expect(opened == ByteBuffer(bytes: [0xbb, 1, 2, 3]))
    }
}
