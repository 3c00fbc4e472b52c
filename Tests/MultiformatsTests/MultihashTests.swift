import Testing
@testable import Multiformats

@Suite struct MultihashTests {
    static let helloWorld = Array("hello world".utf8)
    static let helloWorldSHA256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

    @Test func sha256OfHelloWorld() throws {
        let multihash = Multihash.sha256(Self.helloWorld)
        #expect(multihash.code == .sha2_256)
        #expect(hex(multihash.digest) == Self.helloWorldSHA256)
        #expect(hex(multihash.bytes) == "1220" + Self.helloWorldSHA256)
        #expect(try Multihash(bytes: multihash.bytes) == multihash)
        #expect(multihash.matches(Self.helloWorld))
        #expect(!multihash.matches(Array("hello worle".utf8)))
    }

    @Test func identity() throws {
        let multihash = Multihash.identity([1, 2, 3])
        #expect(multihash.bytes == [0x00, 0x03, 1, 2, 3])
        #expect(multihash.matches([1, 2, 3]))
        #expect(!multihash.matches([1, 2]))
        #expect(try Multihash(bytes: [0x00, 0x00]) == Multihash.identity([]))
    }

    @Test func unknownCodesParseButNeverMatch() throws {
        let multihash = try Multihash(bytes: Varint.encode(0x13_3220) + [0x02, 0xaa, 0xbb])
        #expect(multihash.code == Multicodec(0x13_3220))
        #expect(multihash.code.name == nil)
        #expect(multihash.digest == [0xaa, 0xbb])
        #expect(!multihash.matches([]))
    }

    @Test func parsePrefixReportsLength() throws {
        let input = Multihash.sha256(Self.helloWorld).bytes + [0x01, 0x02]
        let (multihash, length) = try Multihash.parsePrefix(input)
        #expect(length == 34)
        #expect(multihash == Multihash.sha256(Self.helloWorld))
        #expect(code { try Multihash(bytes: input) } == .trailingData)
    }

    @Test func refusesWrongSHA2Lengths() {
        #expect(code { try Multihash(code: .sha2_256, digest: [UInt8](repeating: 0, count: 31)) } == .invalidLength)
        #expect(code { try Multihash(bytes: [0x12, 0x01, 0x00]) } == .invalidLength)
        #expect(code { try Multihash(bytes: [0x13, 0x20] + [UInt8](repeating: 0, count: 32)) } == .invalidLength)
    }

    @Test func refusesTruncatedAndOversized() {
        let valid = Multihash.sha256(Self.helloWorld).bytes
        for length in 0..<valid.count {
            #expect(throws: MultiformatsError.self) { try Multihash(bytes: valid.prefix(length)) }
        }
        let oversized: [UInt8] = [0x00, 0x81, 0x01] + [UInt8](repeating: 7, count: 129)
        #expect(code { try Multihash(bytes: oversized) } == .tooLarge)
        #expect(code { try Multihash(code: .identity, digest: [UInt8](repeating: 0, count: 129)) } == .tooLarge)
        // A huge declared length must fail on the cap, not try to read it.
        #expect(code { try Multihash(bytes: [0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]) } == .tooLarge)
    }
}
