import Foundation
import Multiformats
import Testing

@testable import IPLD

@Suite struct DAGJSONTests {
    /// Every DAG-JSON fixture decodes, re-encodes to the same bytes, and re-encoded in every other
    /// codec of its folder gives that codec's CID: the data model is the same across codecs.
    @Test(arguments: Vectors.fixtures().filter { $0.forms["dag-json"] != nil })
    func fixtureRoundTripsAcrossCodecs(_ fixture: Vectors.Fixture) throws {
        let (cid, bytes) = try #require(fixture.forms["dag-json"])
        let value = try DAGJSON.decode(bytes)
        let encoded = try DAGJSON.encode(value)
        #expect(String(decoding: encoded, as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
        #expect(DAGJSON.cid(of: encoded).description == cid)
        if let (cborCID, cborBytes) = fixture.forms["dag-cbor"] {
            #expect(try DAGCBOR.decode(cborBytes) == value)
            #expect(DAGCBOR.cid(of: try DAGCBOR.encode(value)).description == cborCID)
        }
        if let (pbCID, _) = fixture.forms["dag-pb"] {
            #expect(try PBNode(dataModel: value).cid().description == pbCID)
        }
    }

    @Test func negativeDecodeFixturesAreRefused() throws {
        let fixtures = try Vectors.negativeFixtures("dag-json", "decode")
        #expect(!fixtures.isEmpty)
        for fixture in fixtures {
            let hex = try #require(fixture["hex"] as? String)
            #expect(throws: IPLDError.self, "\(fixture["name"] ?? "")") { try DAGJSON.decode(Vectors.hex(hex)) }
        }
    }

    /// The DAG-PB encode negatives: data-model values (given as DAG-JSON) that are not valid
    /// DAG-PB forms.
    @Test func invalidDAGPBFormsAreRefused() throws {
        let fixtures = try Vectors.negativeFixtures("dag-pb", "encode")
        #expect(fixtures.count >= 70)
        for fixture in fixtures {
            let json = try JSONSerialization.data(withJSONObject: try #require(fixture["dag-json"]), options: [.fragmentsAllowed])
            let value = try DAGJSON.decode([UInt8](json))
            #expect(throws: IPLDError.self, "\(fixture["name"] ?? "")") { try PBNode(dataModel: value) }
        }
    }

    @Test func floatsAndStringsUseTheReferenceSpelling() throws {
        #expect(try DAGJSON.formatFloat(8.940696716308594e-8) == "8.940696716308594e-8")
        #expect(try DAGJSON.formatFloat(1e21) == "1e+21")
        #expect(try DAGJSON.formatFloat(0.5) == "0.5")
        let text = IPLDValue.string("a\"\\\n\u{01}é")
        #expect(String(decoding: try DAGJSON.encode(text), as: UTF8.self) == #""a\"\\\n\u0001é""#)
        #expect(try DAGJSON.decode(DAGJSON.encode(text)) == text)
        #expect(try DAGJSON.decode(Array(#""\ud83d\ude00""#.utf8)) == .string("😀"))
        for bad in ["{\"a\":1,\"a\":2}", "[1,]", "01", "1.", "\"\u{01}\"", "NaN", "1e999", "18446744073709551616", "[1] x", "{\"/\":\"nope\"}"] {
            #expect(throws: IPLDError.self, "\(bad)") { try DAGJSON.decode(Array(bad.utf8)) }
        }
    }
}
