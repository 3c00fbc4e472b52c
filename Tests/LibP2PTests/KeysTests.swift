import Foundation
import Multiformats
import Testing

@testable import LibP2P

/// Keys and peer IDs (libp2p specs `peer-ids/peer-ids.md`): the spec's key vectors,
/// signatures produced by Python `cryptography` 48.0.0, and hostile input.
@Suite struct KeysTests {
    // MARK: - Fixtures

    /// The spec's key protobufs, from `vectors/libp2p/peer-id-keys.json` (read at run time).
    static func specVectors() throws -> [String: [UInt8]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("../shared/vectors/libp2p/peer-id-keys.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let table = try #require(object?["keys_protobuf_hex"] as? [String: String])
        return table.mapValues { bytes(hex: $0) }
    }

    /// The message every Python-produced signature below signs: "libp2p keys test message".
    static let message = Array("libp2p keys test message".utf8)

    // Produced at development time with Python `cryptography` 48.0.0:
    //   d = <scalar from the spec's secp256k1_private vector>
    //   k = ec.derive_private_key(d, ec.SECP256K1()); k.sign(message, ec.ECDSA(hashes.SHA256()))
    static let secp256k1Signature = "30440220011f517da605950f8057f6baf2854abeaf410155122c006dad6920db53d9df0d0220772d44a5422566b19387"
        + "e6c9621698bc5ede63d9f6fa451165a47254397521a4"
    //   k = serialization.load_der_private_key(<spec ecdsa_private Data>, None)
    //   k.sign(message, ec.ECDSA(hashes.SHA256()))
    static let ecdsaSignature = "3044022039387b67bdd4077ad02036337954674321eb8e5180264a83451d6b830901ad75022073cf61262e17ee9672d8"
        + "ab51672bd663dda84190cbc023864c7ac015d2997730"
    //   k = serialization.load_der_private_key(<spec rsa_private Data>, None)
    //   k.sign(message, padding.PKCS1v15(), hashes.SHA256())
    static let rsa4096Signature = "c0b62154dbac2a98c5f3d6e8d912ff19e4511192ea72677262dcd5d095aac7d0eda7e517940ab108286830af5671cb90"
        + "6b47bf0507ce98b17b2dcf59a9a0b64c37139d618dc8ae8a07bf0f0d50c7101fc336775f1865e449a42b803dcd562b15"
        + "1f16cf10ae43bb572b0aa2eb90057195f7767cfcdedad47508321bb690103776b6c3fda4f00acd06eaa8bb9e4dc31c91"
        + "3daa77812ca5f7320573e0db4914c216a27025eeac4451ee8ef9ba6bcecb14baa9e4fb9d9bfc3a4a14a8278707b4ff83"
        + "941f7625e4318800fb9803d26a4c829374f12c4b8a8e1cc6f52ab633012779062a9b5a924b1e0badf2d83fe8876221c1"
        + "bbf3c2c28439eff71e7bb63589683325bf1152396e2f27c175c4ba94e0f36c88d739dff7059f08a1ae5125ce80a9cdfa"
        + "a57d2e531106ba6ab38300ede61f8f62c7f01ddb9cd8c46a58ba2b441063d47d9c564b43c0eaecdcf121d86a2a649b26"
        + "a71459b0c659d38dbab146de036367dfc18c6d41e7324af8da62176b9477a7d2ba0573a7c55fa5349d56eef9656dc27d"
        + "165e267b686e4d500e97c833ea7f2135b42f5161bbcc31b989a9a727f6a2e2437221b75cd998a1eef42db2db840f0d9c"
        + "423712f56866098b412cbce086ddc310e6351448c3403c5b1a5fe66d6ee766aca6d0f2f981ecacd1cd45df258cb631d4"
        + "ba11b76ff49d47727a81ee2dd9dd728eb87beb1284f267c2d14963a04d02db07"
    // An RSA-2048 key like Kubo's identity:
    //   k = rsa.generate_private_key(65537, 2048)
    //   k.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    //   k.sign(message, padding.PKCS1v15(), hashes.SHA256())
    static let rsa2048SPKI = "30820122300d06092a864886f70d01010105000382010f003082010a0282010100960bf7e9199403f41dd1668312dbdd"
        + "66697303ea8c05948098bfa464de54cd484ec54c125694d71ac6b4af4dc8daa15664ec7ef072fe7e35fe1eae9c38ed66"
        + "5bd63d9c66261eca3a664a0390f2f58bb9209386937ea77722aa07b42189259ea4b27c1513b5d043cfaa54c7b3134d1b"
        + "2c31fc968ec69400e0bda9ad0b3e4c5a4080c1f67b17eb3519aa9252f8592e415008996f2cd5fc2952df90a747c83e72"
        + "900c149f7d12ea92923a8a333c759df48d299b44d2460f3f3d70a61c61dbf344447fbabe4d1e195f7a582b2555cd8ab6"
        + "384b7a22276669fe9a8926bbafbfde358ee474a03437d2be1504d5f09463bd837a41fd9ec995d4e559dc1f6d85dbf379"
        + "850203010001"
    static let rsa2048Signature = "6290d5ac18a029e31f164fc221ea8e2c6f04a614d0f4376f41374f26f6ac09c17df5d39c9af89e7fe4fe132889ad9fce"
        + "2d3271541a0a581b6e1b06b6097d94433b86e0c6c292f7bbe5df55e848bc479f58519710a67f6ed2bf1cc7d26c412c60"
        + "31e55a4a75b46d1d1a1bfcc699ac183a805c5ec72e3cad3e77457c7ebd17e50da2c5f3223f0892afa73da5191db39427"
        + "df2222f33c591658cf32020a537b46ae104311cebfd6b179491d0b7e1761387530a2ecbfc59bceb1fc601787a107b398"
        + "9da3e90578e5a757e63904c52b6eeab6acd13d0a6d3666c1bb99127cdba52c5e92d3e68f1bc6cd8514e5a42a53e1a32b"
        + "231974c1c127026364c7c239e009661c"
    //   rsa.generate_private_key(65537, 1024).public_key().public_bytes(DER, SubjectPublicKeyInfo)
    static let rsa1024SPKI = "30819f300d06092a864886f70d010101050003818d0030818902818100958ba361692025148087eb613812fca8b38d19"
        + "eba4b3c70df35e34db7d11515de3ac8cebfba673509802aea3039adcd0f2211515d706ce8669441a0f02ff05756e3f22"
        + "3c302c27b99d34993b3eb3bc92db945e0cbecf26773a06d1921d98e1b727b3f14a835fd430b0f521aa3c730ae1863ea4"
        + "1fe5ea0591bf1a390cdb9f585f0203010001"
    //   k = ec.generate_private_key(ec.SECP384R1()); SPKI DER; k.sign(message, ec.ECDSA(hashes.SHA256()))
    static let p384SPKI = "3076301006072a8648ce3d020106052b81040022036200043bfc707b6f8d4d84deac98537551556ad7b8876f3de6cd"
        + "04399207e9c3600fb7202108ec9c050484b8130711a5e530b79339ee02278452114b74a7251f07d31d096f85faad46e3"
        + "ed0caddac4bb654dfb1c3a10a2c828756c95db458d2f6606ca"
    static let p384Signature = "30660231008cd889238c9e3edaf1a82c0b0a29d5ce9b739d18dd91592aa8bc6f28957132182878a8b5415618073e09"
        + "fdc3bb852f5f02310080fd00acacf29bb679121d46dee2ff719cdf612b5bb2642a6d7c10a5cb8f2dc37ef87691a0ceb7"
        + "9674c96ed9d806b37a"

    /// Flips one bit in the middle of `bytes`.
    static func tampered(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        copy[copy.count / 2] ^= 0x01
        return copy
    }

    static func expectError(_ code: LibP2PError.Code, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
        } catch let error as LibP2PError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected LibP2PError \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Spec vectors

    @Test(arguments: ["ed25519", "rsa", "secp256k1", "ecdsa"])
    func specPublicKeyRoundTrips(name: String) throws {
        let vectors = try Self.specVectors()
        let encoded = try #require(vectors["\(name)_public"])
        let key = try PublicKey(protobufBytes: encoded)
        #expect(key.protobufBytes == encoded)
        let expectedType: KeyType = switch name {
        case "ed25519": .ed25519
        case "rsa": .rsa
        case "secp256k1": .secp256k1
        default: .ecdsa
        }
        #expect(key.keyType == expectedType)
    }

    @Test(arguments: ["ed25519", "rsa", "secp256k1", "ecdsa"])
    func specPrivateKeyRoundTripsAndDerivesPublicKey(name: String) throws {
        let vectors = try Self.specVectors()
        let encoded = try #require(vectors["\(name)_private"])
        let privateKey = try AnyPrivateKey(protobufBytes: encoded)
        #expect(privateKey.protobufBytes == encoded)
        #expect(try privateKey.publicKey().protobufBytes == vectors["\(name)_public"])
    }

    @Test func specRSAKeyIs4096Bits() throws {
        let key = try PublicKey(protobufBytes: try #require(Self.specVectors()["rsa_public"]))
        #expect(key.rsaKeySizeInBits == 4096)
    }

    @Test func identityKeyPairDecodesSpecEd25519Vector() throws {
        let vectors = try Self.specVectors()
        let encoded = try #require(vectors["ed25519_private"])
        let pair = try IdentityKeyPair(protobufBytes: encoded)
        #expect(pair.protobufBytes == encoded)
        #expect(pair.publicKey.protobufBytes == vectors["ed25519_public"])
    }

    /// libp2p Noise payload signature (research/libp2p.md §4): the spec's Ed25519 seed signs
    /// "noise-libp2p-static-key:" ‖ the X25519 public key of private key 01…20.
    @Test func noisePayloadSignatureVector() throws {
        let pair = try IdentityKeyPair(protobufBytes: try #require(Self.specVectors()["ed25519_private"]))
        let staticKey = bytes(hex: "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c")
        let signed = Array("noise-libp2p-static-key:".utf8) + staticKey
        let signature = try pair.sign(signed)
        #expect(signature == bytes(hex: "e50bee9de7af956f6f42ff71195b76f47ea095d2f4c6a57cf588887bed31f783"
            + "46151ce5458182eb7fae8111ad60cf76d4303391165284ff683988e1c7843304"))
        #expect(pair.publicKey.verify(signature: signature, for: signed))
        #expect(!pair.publicKey.verify(signature: signature, for: signed + [0]))
    }

    // MARK: - Signatures from Python `cryptography`

    @Test func secp256k1VerifiesPythonSignature() throws {
        let key = try PublicKey(protobufBytes: try #require(Self.specVectors()["secp256k1_public"]))
        let signature = bytes(hex: Self.secp256k1Signature)
        #expect(key.verify(signature: signature, for: Self.message))
        #expect(!key.verify(signature: Self.tampered(signature), for: Self.message))
        #expect(!key.verify(signature: signature, for: Self.message + [0x21]))
        #expect(!key.verify(signature: Array(signature.dropLast()), for: Self.message))
        #expect(!key.verify(signature: [], for: Self.message))
    }

    @Test func secp256k1RejectsOutOfRangeAndNonDERSignatures() throws {
        let key = try PublicKey(protobufBytes: try #require(Self.specVectors()["secp256k1_public"]))
        let (r, s) = try #require(Secp256k1.parseDERSignature(bytes(hex: Self.secp256k1Signature)))
        func der(_ r: [UInt8], _ s: [UInt8]) -> [UInt8] {
            let body = [0x02, UInt8(r.count)] + r + [0x02, UInt8(s.count)] + s
            return [0x30, UInt8(body.count)] + body
        }
        let rBytes = Secp256k1.fixedWidth(r)
        let sBytes = Secp256k1.fixedWidth(s)
        // s + n (≥ n, same value mod n) must be refused, as must r = 0 and s = 0.
        let sPlusN = [0x00] + Secp256k1.fixedWidth(s + Secp256k1.n)
        #expect(!key.verify(signature: der(rBytes, sPlusN), for: Self.message))
        #expect(!key.verify(signature: der([0], sBytes), for: Self.message))
        #expect(!key.verify(signature: der(rBytes, [0]), for: Self.message))
        // High-s form n − s is a valid signature too (go/dcrd accepts it).
        let highS = Secp256k1.fixedWidth(Secp256k1.n - s)
        let highSDER = der(rBytes, highS[0] & 0x80 != 0 ? [0] + highS : highS)
        #expect(key.verify(signature: highSDER, for: Self.message))
        // Non-minimal integer (extra leading zero) is not DER.
        #expect(!key.verify(signature: der([0, 0] + rBytes.drop(while: { $0 == 0 }), sBytes), for: Self.message))
    }

    @Test func secp256k1DerivesSpecPublicKeyFromScalar() throws {
        let vectors = try Self.specVectors()
        let scalar = Array(try #require(vectors["secp256k1_private"]).suffix(32))
        let point = try Secp256k1.publicKey(privateScalar: scalar)
        #expect(Secp256k1.compress(point) == Array(try #require(vectors["secp256k1_public"]).suffix(33)))
        #expect(try Secp256k1.decompress(Secp256k1.compress(point)) == point)
    }

    @Test func ecdsaP256VerifiesPythonSignature() throws {
        let key = try PublicKey(protobufBytes: try #require(Self.specVectors()["ecdsa_public"]))
        let signature = bytes(hex: Self.ecdsaSignature)
        #expect(key.verify(signature: signature, for: Self.message))
        #expect(!key.verify(signature: Self.tampered(signature), for: Self.message))
        #expect(!key.verify(signature: signature, for: []))
        #expect(!key.verify(signature: [0x30, 0x00], for: Self.message))
    }

    @Test func ecdsaP384VerifiesPythonSignature() throws {
        let key = try PublicKey(keyType: .ecdsa, data: bytes(hex: Self.p384SPKI))
        let signature = bytes(hex: Self.p384Signature)
        #expect(key.verify(signature: signature, for: Self.message))
        #expect(!key.verify(signature: Self.tampered(signature), for: Self.message))
    }

    @Test func rsa4096VerifiesPythonSignatureAndSignsIdentically() throws {
        let vectors = try Self.specVectors()
        let key = try PublicKey(protobufBytes: try #require(vectors["rsa_public"]))
        let signature = bytes(hex: Self.rsa4096Signature)
        #expect(key.verify(signature: signature, for: Self.message))
        #expect(!key.verify(signature: Self.tampered(signature), for: Self.message))
        #expect(!key.verify(signature: signature, for: Self.message + [0]))
        #expect(!key.verify(signature: Array(signature.dropFirst()), for: Self.message))
        // PKCS#1 v1.5 is deterministic: our signature equals Python's byte for byte.
        let privateKey = try AnyPrivateKey(protobufBytes: try #require(vectors["rsa_private"]))
        #expect(try privateKey.signDeterministically(Self.message) == signature)
    }

    /// Kubo identities are RSA-2048 (research/libp2p.md §0.1).
    @Test func rsa2048VerifiesPythonSignature() throws {
        let key = try PublicKey(keyType: .rsa, data: bytes(hex: Self.rsa2048SPKI))
        #expect(key.rsaKeySizeInBits == 2048)
        // A 2048-bit key protobuf is 299 bytes and starts 080012a602 (research/libp2p.md §1).
        #expect(key.protobufBytes.count == 299)
        #expect(Array(key.protobufBytes.prefix(5)) == [0x08, 0x00, 0x12, 0xa6, 0x02])
        #expect(try PublicKey(protobufBytes: key.protobufBytes) == key)
        let signature = bytes(hex: Self.rsa2048Signature)
        #expect(key.verify(signature: signature, for: Self.message))
        #expect(!key.verify(signature: Self.tampered(signature), for: Self.message))
    }

    @Test func rsaBelow2048BitsIsRefused() {
        Self.expectError(.unsupportedKey) { _ = try PublicKey(keyType: .rsa, data: bytes(hex: Self.rsa1024SPKI)) }
    }

    /// go-libp2p accepts RSA moduli up to 8192 bits (`maxRsaKeyBits`); larger ones are refused.
    @Test func rsaAbove8192BitsIsRefused() throws {
        let key8192 = try PublicKey(keyType: .rsa, data: Self.syntheticRSASPKI(bits: 8192))
        #expect(key8192.rsaKeySizeInBits == 8192)
        #expect(try PublicKey(protobufBytes: key8192.protobufBytes) == key8192)
        // BoringSSL itself refuses moduli over 8192 bits while parsing, so this surfaces as
        // `.malformedInput` rather than `.unsupportedKey`; either way it is refused.
        #expect(throws: LibP2PError.self) { _ = try PublicKey(keyType: .rsa, data: Self.syntheticRSASPKI(bits: 8200)) }
    }

    /// A DER SubjectPublicKeyInfo for an RSA key with an arbitrary odd modulus of `bits` bits
    /// and e = 65537 (public keys are not checked for primality, so no key generation needed).
    static func syntheticRSASPKI(bits: Int) -> [UInt8] {
        func length(_ n: Int) -> [UInt8] {
            n < 0x80 ? [UInt8(n)] : n < 0x100 ? [0x81, UInt8(n)] : [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
        }
        func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] { [tag] + length(body.count) + body }
        var modulus = [UInt8](repeating: 0xc3, count: (bits + 7) / 8)
        if bits % 8 != 0 { modulus[0] = UInt8(1 << (bits % 8 - 1)) }
        modulus[0] |= bits % 8 == 0 ? 0x80 : 0
        modulus[modulus.count - 1] |= 1
        let rsaKey = tlv(0x30, tlv(0x02, [0] + modulus) + tlv(0x02, [0x01, 0x00, 0x01]))
        let algorithm = tlv(0x30, tlv(0x06, [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]) + [0x05, 0x00])
        return tlv(0x30, algorithm + tlv(0x03, [0] + rsaKey))
    }

    // MARK: - Ed25519 identities

    @Test func generatedIdentitySignsAndRoundTrips() throws {
        let pair = IdentityKeyPair.generate()
        let other = IdentityKeyPair.generate()
        #expect(pair.publicKey != other.publicKey)
        let signature = try pair.sign(Self.message)
        #expect(signature.count == 64)
        #expect(pair.publicKey.verify(signature: signature, for: Self.message))
        #expect(!other.publicKey.verify(signature: signature, for: Self.message))
        #expect(!pair.publicKey.verify(signature: Self.tampered(signature), for: Self.message))
        let encoded = pair.protobufBytes
        #expect(encoded.count == 4 + 64)
        let decoded = try IdentityKeyPair(protobufBytes: encoded)
        #expect(decoded.publicKey == pair.publicKey)
        #expect(try decoded.sign(Self.message) == signature)
        #expect(!"\(pair)".contains(hexString(Array(encoded[4..<36]))))
    }

    @Test func identityAcceptsSeedAndLegacyForms() throws {
        let vectors = try Self.specVectors()
        let standard = try #require(vectors["ed25519_private"])
        let data = Array(standard.suffix(64))
        let seedOnly = KeyProtobuf(keyType: .ed25519, data: Array(data.prefix(32))).encode()
        let legacy = KeyProtobuf(keyType: .ed25519, data: data + data.suffix(32)).encode()
        for encoded in [seedOnly, legacy] {
            let pair = try IdentityKeyPair(protobufBytes: encoded)
            #expect(pair.protobufBytes == standard)
        }
        // Legacy form whose two public copies differ.
        var badLegacy = data + data.suffix(32)
        badLegacy[95] ^= 1
        Self.expectError(.malformedInput) {
            _ = try IdentityKeyPair(protobufBytes: KeyProtobuf(keyType: .ed25519, data: badLegacy).encode())
        }
        // Public half that does not belong to the seed.
        var mismatched = data
        mismatched[40] ^= 1
        Self.expectError(.malformedInput) {
            _ = try IdentityKeyPair(protobufBytes: KeyProtobuf(keyType: .ed25519, data: mismatched).encode())
        }
        Self.expectError(.malformedInput) {
            _ = try IdentityKeyPair(protobufBytes: KeyProtobuf(keyType: .ed25519, data: Array(data.prefix(48))).encode())
        }
        // Identities are Ed25519 only.
        Self.expectError(.unsupportedKey) { _ = try IdentityKeyPair(protobufBytes: try #require(vectors["secp256k1_private"])) }
    }

    // MARK: - Hostile input

    @Test func truncatedProtobufsAreMalformed() throws {
        let vectors = try Self.specVectors()
        for (name, encoded) in vectors where name.hasSuffix("_public") {
            for length in [0, 1, 2, 3, encoded.count / 2, encoded.count - 1] {
                Self.expectError(.malformedInput) { _ = try PublicKey(protobufBytes: Array(encoded.prefix(length))) }
            }
        }
    }

    @Test func garbageAndMisshapenProtobufs() {
        let cases: [[UInt8]] = [
            [0xff, 0xff, 0xff],                         // bad tag varint
            [0x08, 0x01],                               // Type only
            [0x12, 0x00],                               // Data only
            [0x08, 0x01, 0x08, 0x01, 0x12, 0x00],       // repeated Type
            [0x08, 0x01, 0x0b],                         // group wire type
            [0x08, 0x01, 0x12, 0x05, 0x01],             // Data length past the end
            [0x08, 0x01, 0x12, 0x00],                   // Ed25519 key of 0 bytes
            [0x08, 0x01, 0x12, 0x01, 0x00],             // Ed25519 key of 1 byte
            [0x08, 0x00, 0x12, 0x03, 0x30, 0x01, 0x00], // RSA key that is not a SPKI
            [0x08, 0x02, 0x12, 0x02, 0x02, 0x00],       // secp256k1 key of 2 bytes
            [0x0a, 0x00, 0x12, 0x00],                   // Type with the wrong wire type
        ]
        for encoded in cases {
            Self.expectError(.malformedInput) { _ = try PublicKey(protobufBytes: encoded) }
        }
        // Oversized input is refused before anything else.
        let oversized = [0x08, 0x00, 0x12, 0x81, 0x50] + [UInt8](repeating: 0, count: 10_241)
        Self.expectError(.malformedInput) { _ = try PublicKey(protobufBytes: oversized) }
    }

    @Test func unknownKeyTypesAreUnsupported() {
        // py-libp2p's ECC_P256 = 4 and X25519 = 5, and an arbitrary large value.
        for type: UInt64 in [4, 5, 1 << 40] {
            var writer = ProtobufWriter()
            writer.writeVarint(field: 1, type)
            writer.writeBytes(field: 2, [UInt8](repeating: 1, count: 32))
            Self.expectError(.unsupportedKey) { _ = try PublicKey(protobufBytes: writer.bytes) }
        }
        // An ECDSA key on a curve we do not know is unsupported (here: a secp256k1 point as "ECDSA").
        Self.expectError(.unsupportedKey) { _ = try PublicKey(keyType: .ecdsa, data: [0x30, 0x03, 0x02, 0x01, 0x01]) }
    }

    @Test func unknownFieldsAreSkippedAndReencodingIsCanonical() throws {
        let canonical = try #require(try Self.specVectors()["ed25519_public"])
        // Field 3 (unknown) appended, and the fields in reverse order.
        let withExtra = canonical + [0x18, 0x07]
        let reordered = Array(canonical[2...]) + Array(canonical[0..<2])
        for encoded in [withExtra, reordered] {
            #expect(try PublicKey(protobufBytes: encoded).protobufBytes == canonical)
        }
    }

    @Test func invalidSecp256k1PointsAreRefused() {
        // x = 5: 5³ + 7 = 132 is not a square mod p, so no point has this x.
        var offCurve = [UInt8](repeating: 0, count: 33)
        offCurve[0] = 0x02
        offCurve[32] = 5
        // x = p (out of range) and a bad prefix byte.
        let xIsP = [0x02] + bytes(hex: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
        var badPrefix = bytes(hex: "037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99")
        badPrefix[0] = 0x04
        for data in [offCurve, xIsP, badPrefix, [UInt8](repeating: 0, count: 33)] {
            Self.expectError(.malformedInput) { _ = try PublicKey(keyType: .secp256k1, data: data) }
        }
        // Private scalars 0 and n are out of range.
        Self.expectError(.malformedInput) { _ = try Secp256k1.publicKey(privateScalar: [UInt8](repeating: 0, count: 32)) }
        Self.expectError(.malformedInput) { _ = try Secp256k1.publicKey(privateScalar: Secp256k1.fixedWidth(Secp256k1.n)) }
    }
}

// MARK: - Peer IDs

extension KeysTests {
    /// Peer IDs of the spec's public keys (research/libp2p.md §1, cross-checked with py-libp2p).
    static let expectedPeerIDs = [
        "ed25519": "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq",
        "rsa": "QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG",
        "secp256k1": "16Uiu2HAmLhLvBoYaoZfaMUKuibM6ac163GwKY74c5kiSLg5KvLpY",
        "ecdsa": "QmVMT29id3TUASyfZZ6k9hmNyc2nYabCo4uMSpDw4zrgDk",
    ]

    @Test(arguments: ["ed25519", "rsa", "secp256k1", "ecdsa"])
    func specPeerIDs(name: String) throws {
        let vectors = try Self.specVectors()
        let key = try PublicKey(protobufBytes: try #require(vectors["\(name)_public"]))
        let expected = try #require(Self.expectedPeerIDs[name])
        let peerID = PeerID(publicKey: key)
        #expect(peerID.description == expected)
        #expect(peerID.matches(key))
        // Text → PeerID → text, both forms.
        let parsed = try PeerID(expected)
        #expect(parsed == peerID)
        #expect(try PeerID(peerID.cidString) == peerID)
        #expect(try PeerID(bytes: peerID.bytes) == peerID)
        // Same ID from the private key vector.
        let privateKey = try AnyPrivateKey(protobufBytes: try #require(vectors["\(name)_private"]))
        #expect(PeerID(publicKey: try privateKey.publicKey()) == peerID)
        // Inline keys (Ed25519, secp256k1) can be read back; hashed ones (RSA, ECDSA) cannot.
        if name == "ed25519" || name == "secp256k1" {
            #expect(peerID.multihash.code == .identity)
            #expect(parsed.embeddedPublicKey == key)
        } else {
            #expect(peerID.multihash.code == .sha2_256)
            #expect(parsed.embeddedPublicKey == nil)
        }
    }

    @Test func ed25519PeerIDAsCID() throws {
        let pair = try IdentityKeyPair(protobufBytes: try #require(Self.specVectors()["ed25519_private"]))
        let cidText = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"
        #expect(pair.peerID.cidString == cidText)
        #expect(try PeerID(cidText) == pair.peerID)
        // Any multibase is accepted for the CID form.
        for base in [Multibase.base36, .base16, .base58btc, .base64url] {
            #expect(try PeerID(pair.peerID.cid.string(in: base)) == pair.peerID)
        }
        #expect(pair.peerID.description.hasPrefix("12D3KooW"))
    }

    @Test func generatedIdentityPeerIDMatchesOnlyItsKey() throws {
        let pair = IdentityKeyPair.generate()
        let other = IdentityKeyPair.generate()
        #expect(pair.peerID.matches(pair.publicKey))
        #expect(!pair.peerID.matches(other.publicKey))
        #expect(pair.peerID != other.peerID)
        #expect(pair.peerID.embeddedPublicKey == pair.publicKey)
        #expect(try PeerID(pair.peerID.description) == pair.peerID)
        #expect((pair.peerID < other.peerID) != (other.peerID < pair.peerID))
    }

    @Test func badPeerIDTextIsMalformed() throws {
        let ed = Self.expectedPeerIDs["ed25519"]!
        let cases = [
            "",
            "12D3KooW",                                          // truncated multihash
            String(ed.dropLast()),                               // digest one byte short
            ed.replacingOccurrences(of: "K", with: "0"),         // '0' is not base58
            "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi", // dag-pb CID, not libp2p-key
            "zzzz",                                              // garbage multibase
            "Qm" + String(repeating: "1", count: 600),           // over the length cap
        ]
        for text in cases {
            Self.expectError(.malformedInput) { _ = try PeerID(text) }
        }
        // A multihash that is neither identity nor sha2-256 (sha2-512) is not a peer ID.
        let sha512 = try Multihash(code: .sha2_512, digest: [UInt8](repeating: 7, count: 64))
        Self.expectError(.malformedInput) { _ = try PeerID(multihash: sha512) }
        // Identity multihash longer than 42 bytes is not a peer ID.
        Self.expectError(.malformedInput) { _ = try PeerID(multihash: .identity([UInt8](repeating: 1, count: 43))) }
        // An identity peer ID whose digest is not a key has no embedded key.
        #expect(try PeerID(multihash: .identity([1, 2, 3])).embeddedPublicKey == nil)
    }
}

// MARK: - Hex helpers (private to this file)

private func bytes(hex: String) -> [UInt8] {
    var result: [UInt8] = []
    result.reserveCapacity(hex.utf8.count / 2)
    var iterator = hex.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        result.append(UInt8(nibble(high) << 4 | nibble(low)))
    }
    return result
}

private func nibble(_ c: UInt8) -> UInt8 {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    default: c - UInt8(ascii: "A") + 10
    }
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
