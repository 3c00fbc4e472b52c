import Crypto
import LibP2P
import Testing
@testable import ChatCrypto

/// Known answers for the primitives ChatCrypto wraps, typed in from the RFCs and the GCM spec.
@Suite struct PrimitiveKnownAnswerTests {
    @Test func hkdfRFC5869TestCase1() {
        let okm = KeyDerivation.hkdf(
            inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22), salt: [UInt8](hex: "000102030405060708090a0b0c"),
            info: [UInt8](hex: "f0f1f2f3f4f5f6f7f8f9"), outputByteCount: 42)
        #expect(okm.hex == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    }

    @Test func hkdfRFC5869TestCase3EmptySaltAndInfo() {
        let okm = KeyDerivation.hkdf(inputKeyMaterial: [UInt8](repeating: 0x0b, count: 22), salt: [], info: [], outputByteCount: 42)
        #expect(okm.hex == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")
    }

    @Test func x25519RFC7748Section5_2() throws {
        let scalar = try DHPrivateKey(curve: .x25519, rawRepresentation: [UInt8](hex: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"))
        let u = try DHPublicKey(curve: .x25519, bytes: [UInt8](hex: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
        #expect(try scalar.sharedSecret(with: u).hex == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
    }

    @Test func x25519RFC7748Section6_1() throws {
        let alice = try DHPrivateKey(curve: .x25519, rawRepresentation: [UInt8](hex: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let bob = try DHPrivateKey(curve: .x25519, rawRepresentation: [UInt8](hex: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        #expect(alice.publicKey.bytes.hex == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        #expect(bob.publicKey.bytes.hex == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        let shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
        #expect(try alice.sharedSecret(with: bob.publicKey).hex == shared)
        #expect(try bob.sharedSecret(with: alice.publicKey).hex == shared)
    }

    /// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14 (AES-256).
    @Test func aes256GCMTestCases13And14() throws {
        let key = [UInt8](repeating: 0, count: 32)
        let nonce = [UInt8](repeating: 0, count: 12)
        #expect(try AEAD.seal([], key: key, nonce: nonce, associatedData: []).hex == "530f8afbc74536b9a963b4f1c4cb738b")
        let sealed = try AEAD.seal([UInt8](repeating: 0, count: 16), key: key, nonce: nonce, associatedData: [])
        #expect(sealed.hex == "cea7403d4d606b6e074ec5d3baf39d18" + "d0d1c8a799996bf0265b98b5d48ab919")
        #expect(AEAD.open(sealed[...], key: key, nonce: nonce, associatedData: []) == [UInt8](repeating: 0, count: 16))
        var tampered = sealed
        tampered[0] ^= 1
        #expect(AEAD.open(tampered[...], key: key, nonce: nonce, associatedData: []) == nil)
    }

    /// RFC 8032 §7.1 TEST 1, verified through the libp2p identity key type the bundle uses.
    @Test func ed25519RFC8032Test1Verifies() throws {
        let key = try LibP2P.PublicKey(keyType: .ed25519, data: [UInt8](hex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = [UInt8](hex: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.verify(signature: signature, for: []))
        var bad = signature
        bad[10] ^= 0x40
        #expect(!key.verify(signature: bad, for: []))
    }

    @Test func padmeMatchesThePaper() {
        #expect(Padding.padme(1) == 1)
        #expect(Padding.padme(100) == 104)
        #expect(Padding.padme(1000) == 1024)
        #expect(Padding.padme(1_000_000) == 1_015_808)
        for length in [3, 17, 999, 65_537, 10_000_000] {
            let padded = Padding.padme(length)
            #expect(padded >= length && Double(padded) <= Double(length) * 1.12)
        }
    }
}
