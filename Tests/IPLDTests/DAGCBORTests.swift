import Foundation
import Multiformats
import Testing

@testable import IPLD

@Suite struct DAGCBORTests {
    @Test(arguments: Vectors.fixtures().filter { $0.forms["dag-cbor"] != nil })
    func fixtureRoundTrips(_ fixture: Vectors.Fixture) throws {
        let (cid, bytes) = try #require(fixture.forms["dag-cbor"])
        let value = try DAGCBOR.decode(bytes)
        let encoded = try DAGCBOR.encode(value)
        #expect(encoded == bytes)
        #expect(DAGCBOR.cid(of: encoded).description == cid)
        // DAG-PB folders: the DAG-CBOR form is the PBNode data model.
        if let (pbCID, pbBytes) = fixture.forms["dag-pb"] {
            let node = try PBNode(dataModel: value)
            #expect(node.bytes == pbBytes)
            #expect(node.cid().description == pbCID)
        }
    }

    @Test func fixturesArePresent() {
        #expect(Vectors.fixtures().filter { $0.forms["dag-cbor"] != nil }.count > 100)
    }

    @Test func negativeFixturesAreRefused() throws {
        let fixtures = try Vectors.negativeFixtures("dag-cbor", "decode")
        #expect(!fixtures.isEmpty)
        for fixture in fixtures {
            let hex = try #require(fixture["hex"] as? String)
            #expect(throws: IPLDError.self, "\(fixture["name"] ?? "")") { try DAGCBOR.decode(Vectors.hex(hex)) }
        }
    }

    @Test(arguments: [
        ("1817", "integer 23 in one extra byte"),
        ("190017", "integer in two bytes"),
        ("5f4100ff", "indefinite bytes"),
        ("9fff", "indefinite list"),
        ("f7", "undefined"),
        ("f0", "simple value 16"),
        ("f93c00", "half float"),
        ("fa3f800000", "single float"),
        ("fb7ff8000000000000", "NaN"),
        ("fb7ff0000000000000", "infinity"),
        ("c11a514b67b0", "tag 1"),
        ("d82a4400015500", "CID without 0x00 prefix"),
        ("d82a4100", "tag 42 with empty CID"),
        ("a2616201616101", "unsorted keys"),
        ("a2626161016162", "length-first violated: long key first"),
        ("a10101", "integer map key"),
        ("62c328", "invalid UTF-8"),
        ("830102", "truncated list"),
        ("5a00010000", "length beyond input"),
        ("9b00000000ffffffff", "absurd list length"),
        ("0000", "trailing bytes"),
        ("", "empty input"),
        ("1c", "reserved additional information"),
    ])
    func nonCanonicalInputIsRefused(hex: String, reason: String) {
        #expect(throws: IPLDError.self, "\(reason)") { try DAGCBOR.decode(Vectors.hex(hex)) }
    }

    @Test func depthBombIsRefused() {
        let bomb = [UInt8](repeating: 0x81, count: DAGCBOR.maxNestingDepth + 1) + [0x00]
        #expect(throws: IPLDError.self) { try DAGCBOR.decode(bomb) }
        let fine = [UInt8](repeating: 0x81, count: DAGCBOR.maxNestingDepth) + [0x00]
        #expect(throws: Never.self) { try DAGCBOR.decode(fine) }
    }

    @Test func encodesKeysLengthFirstAndIntegersAtTheExtremes() throws {
        let value = IPLDValue.map([
            "bb": .integer(IPLDInteger(isNegative: true, cborArgument: .max)),
            "a": .integer(IPLDInteger(UInt64.max)),
            "c": .float(1.5),
            "aa": .link(CID.v1(codec: .raw, multihash: .sha256([]))),
        ])
        let bytes = try DAGCBOR.encode(value)
        #expect(Array(bytes.prefix(4)) == [0xa4, 0x61, 0x61, 0x1b])
        #expect(try DAGCBOR.decode(bytes) == value)
        #expect(IPLDInteger(isNegative: true, cborArgument: .max).description == "-18446744073709551616")
        #expect(IPLDInteger(decimal: "-18446744073709551616") == IPLDInteger(isNegative: true, cborArgument: .max))
        #expect(IPLDInteger(decimal: "-18446744073709551617") == nil)
        #expect(throws: IPLDError.self) { try DAGCBOR.encode(.float(.nan)) }
    }
}
