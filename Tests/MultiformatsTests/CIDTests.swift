import Testing
@testable import Multiformats

@Suite struct CIDTests {
    @Test func rawCIDOfHelloWorld() throws {
        let cid = CID.v1(codec: .raw, multihash: .sha256(Array("hello world".utf8)))
        #expect(cid.description == "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e")
        #expect(hex(cid.bytes) == "01551220" + MultihashTests.helloWorldSHA256)
        #expect(try CID(parsing: cid.description) == cid)
        #expect(CID(cid.description) == cid)
        #expect(try CID(bytes: cid.bytes) == cid)
    }

    @Test func v0() throws {
        let text = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"
        let cid = try CID(parsing: text)
        #expect(cid.version == .v0)
        #expect(cid.codec == .dagPB)
        #expect(cid.multihash.code == .sha2_256)
        #expect(cid.bytes.count == 34)
        #expect(cid.bytes == cid.multihash.bytes)
        #expect(cid.description == text)
        #expect(cid.string(in: .base32) == text)
        #expect(try CID(bytes: cid.bytes) == cid)
        let v1 = cid.convertedToV1()
        #expect(v1.version == .v1 && v1.codec == .dagPB && v1.multihash == cid.multihash)
        #expect(v1.description.hasPrefix("bafy"))
    }

    @Test func peerIDAsCID() throws {
        let cid = try CID(parsing: "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6")
        #expect(cid.version == .v1)
        #expect(cid.codec == .libp2pKey)
        #expect(cid.multihash.code == .identity)
        #expect(Base58.encode(cid.multihash.bytes) == "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq")
    }

    @Test func otherBases() throws {
        let cid = CID.v1(codec: .dagCBOR, multihash: .sha256([1, 2, 3]))
        for base in Multibase.allCases {
            let text = cid.string(in: base)
            #expect(text.first == base.prefix)
            #expect(try CID(parsing: text) == cid, "\(base.name)")
        }
    }

    /// Folder names `cid-<CID>` in the IPLD codec fixtures round-trip in their own base, and every
    /// file inside is named by the CID of its content.
    @Test func ipldFixtureCIDs() throws {
        let root = "ipld-codec-fixtures/fixtures"
        var folders = 0
        var files = 0
        for folder in try Vectors.directory(root) where folder.hasPrefix("cid-") {
            let text = String(folder.dropFirst(4))
            guard text != "arrayof", text != "mapof" else { continue }
            let cid = try CID(parsing: text)
            if cid.version == .v0 {
                #expect(cid.description == text)
            } else {
                let base = try #require(Multibase(prefix: text.first!))
                #expect(cid.string(in: base) == text)
            }
            #expect(try CID(bytes: cid.bytes) == cid)
            folders += 1
            for file in try Vectors.directory("\(root)/\(folder)") {
                guard let dot = file.firstIndex(of: ".") else { continue }
                let fileCID = try CID(parsing: String(file[..<dot]))
                #expect(fileCID.codec.name == String(file[file.index(after: dot)...]))
                #expect(fileCID.multihash.matches(try Vectors.data("\(root)/\(folder)/\(file)")), "\(folder)/\(file)")
                files += 1
            }
        }
        #expect(folders >= 15)
        #expect(files >= 30)
    }

    @Test func refusesInvalid() throws {
        let v0 = try CID(parsing: "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD")
        #expect(code { try CID(version: .v0, codec: .raw, multihash: v0.multihash) } == .invalidCID)
        #expect(code { try CID(version: .v0, codec: .dagPB, multihash: .identity([1])) } == .invalidCID)
        #expect(code { try CID(parsing: Multibase.encode(v0.bytes, as: .base58btc)) } == .invalidCID)
        #expect(code { try CID(bytes: [0x02, 0x55] + v0.multihash.bytes) } == .invalidCID)
        #expect(code { try CID(bytes: [0x00, 0x55] + v0.multihash.bytes) } == .invalidCID)
        #expect(code { try CID(bytes: v0.bytes + [0]) } == .trailingData)
        #expect(code { try CID(parsing: "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyf0") } == .invalidCharacter)
        #expect(CID("") == nil)
        #expect(CID("bafkrei") == nil)
        #expect(CID("hello") == nil)
        let valid = CID.v1(codec: .raw, multihash: .sha256([])).bytes
        for length in 0..<valid.count {
            #expect(throws: MultiformatsError.self) { try CID(bytes: valid.prefix(length)) }
        }
        let (cid, length) = try CID.parsePrefix(valid + [9, 9])
        #expect(length == valid.count)
        #expect(cid.bytes == valid)
        let (prefixV0, v0Length) = try CID.parsePrefix(v0.bytes + [9])
        #expect(prefixV0 == v0 && v0Length == 34)
    }
}
