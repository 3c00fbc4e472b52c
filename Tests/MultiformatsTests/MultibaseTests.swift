import Testing
@testable import Multiformats

@Suite struct MultibaseTests {
    struct VectorFile {
        var input: [UInt8]
        var rows: [(name: String, text: String)]
    }

    /// Parses `encoding, "input"` followed by `name, "text"` rows.
    static func load(_ file: String) throws -> VectorFile {
        let lines = try Vectors.text("multiformats/\(file)").split(whereSeparator: \.isNewline)
        func split(_ line: Substring) -> (String, String) {
            let comma = line.firstIndex(of: ",")!
            let name = line[..<comma].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: comma)...].trimmingCharacters(in: .whitespaces)
            value.removeFirst()
            value.removeLast()
            return (name, value)
        }
        let header = split(lines[0]).1
        let input = Array(header.replacingOccurrences(of: "\\x00", with: "\0").utf8)
        return VectorFile(input: input, rows: lines.dropFirst().map(split))
    }

    static let canonicalFiles = ["multibase-basic.csv", "multibase-leading_zero.csv", "multibase-two_leading_zeros.csv"]

    @Test(arguments: canonicalFiles)
    func encodesAndDecodesEveryRow(file: String) throws {
        let vectors = try Self.load(file)
        #expect(vectors.rows.count >= 22)
        var tested = 0
        for (name, text) in vectors.rows {
            guard let base = Multibase.allCases.first(where: { $0.name == name }) else {
                #expect(name == "base256emoji", "unsupported encoding \(name)")
                continue
            }
            #expect(Multibase.encode(vectors.input, as: base) == text, "\(file) \(name)")
            let decoded = try Multibase.decode(text)
            #expect(decoded.base == base, "\(file) \(name)")
            #expect(decoded.bytes == vectors.input, "\(file) \(name)")
            tested += 1
        }
        #expect(tested == Multibase.allCases.count)
    }

    @Test func decodesCaseInsensitiveRows() throws {
        let vectors = try Self.load("multibase-case_insensitivity.csv")
        #expect(String(decoding: vectors.input, as: UTF8.self) == "hello world")
        #expect(vectors.rows.count == 12)
        for (name, text) in vectors.rows {
            let decoded = try Multibase.decode(text)
            #expect(decoded.base.name == name)
            #expect(decoded.bytes == vectors.input, "\(name)")
        }
    }

    @Test func prefixesAreUnique() {
        let prefixes = Set(Multibase.allCases.map(\.prefix))
        #expect(prefixes.count == Multibase.allCases.count)
        for base in Multibase.allCases {
            #expect(Multibase(prefix: base.prefix) == base)
        }
        #expect(Multibase(prefix: "🚀") == nil)
    }

    @Test func roundTripsAllLengths() throws {
        let data = (0..<70).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for base in Multibase.allCases {
            for length in [0, 1, 2, 3, 4, 5, 6, 7, 31, 32, 33, 70] {
                let input = [0, 0] + Array(data.prefix(length))
                let text = Multibase.encode(input, as: base)
                #expect(try Multibase.decode(text).bytes == input, "\(base.name) length \(length)")
            }
        }
    }

    @Test func refusesGarbage() {
        #expect(code { try Multibase.decode("") } == .unsupportedMultibase)
        #expect(code { try Multibase.decode("Qxyz") } == .unsupportedMultibase)
        #expect(code { try Multibase.decode("🚀🏃") } == .unsupportedMultibase)
        #expect(code { try Multibase.decode("fzz") } == .invalidCharacter)
        #expect(code { try Multibase.decode("f123") } == .invalidLength)          // odd hex
        #expect(code { try Multibase.decode("mAAA=") } == .invalidCharacter)        // pad in unpadded base64
        #expect(code { try Multibase.decode("MAA=") } == .invalidCharacter)        // wrong pad count
        #expect(code { try Multibase.decode("MAA") } == .invalidCharacter)         // missing pad
        #expect(code { try Multibase.decode("mA") } == .invalidLength)             // 6 bits: no whole byte
        #expect(code { try Multibase.decode("mAB") } == .invalidCharacter)         // non-zero trailing bits
        #expect(code { try Multibase.decode("z0OIl") } == .invalidCharacter)       // not in base58btc
        #expect(code { try Multibase.decode("bé") } == .invalidCharacter)
        #expect(code { try Multibase.decode("hYBND") } == .invalidCharacter)       // base32z is case-sensitive
    }

    @Test func base58MatchesKnownPeerIDAndRefusesHugeInput() throws {
        let peerID = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
        let decoded = try Base58.decode(peerID)
        #expect(decoded.count == 38)
        #expect(Array(decoded.prefix(6)) == [0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
        #expect(Base58.encode(decoded) == peerID)
        #expect(Base58.encode([]) == "")
        #expect(try Base58.decode("") == [])
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(code { try Base58.decode(String(repeating: "2", count: Base58.maxTextLength + 1)) } == .tooLarge)
    }
}
