import Foundation
import Multiformats
import Testing

@testable import IPLD

@Suite struct DAGPBTests {
    @Test(arguments: Vectors.fixtures().filter { $0.forms["dag-pb"] != nil })
    func fixtureRoundTrips(_ fixture: Vectors.Fixture) throws {
        let (cid, bytes) = try #require(fixture.forms["dag-pb"])
        let node = try PBNode(parsing: bytes)
        #expect(node.bytes == bytes)
        #expect(node.cid().description == cid)
        // The data model form re-encoded as DAG-CBOR gives that folder's DAG-CBOR CID.
        let (cborCID, cborBytes) = try #require(fixture.forms["dag-cbor"])
        let cbor = try DAGCBOR.encode(node.dataModel)
        #expect(cbor == cborBytes)
        #expect(DAGCBOR.cid(of: cbor).description == cborCID)
    }

    @Test func fixturesArePresent() {
        #expect(Vectors.fixtures().filter { $0.forms["dag-pb"] != nil }.count >= 17)
    }

    @Test func negativeDecodeFixturesAreRefused() throws {
        let fixtures = try Vectors.negativeFixtures("dag-pb", "decode")
        #expect(fixtures.count >= 9)
        for fixture in fixtures {
            let hex = try #require(fixture["hex"] as? String)
            #expect(throws: IPLDError.self, "\(fixture["name"] ?? "")") { try PBNode(parsing: Vectors.hex(hex)) }
        }
    }

    @Test(arguments: [
        ("0a0100" + "0a0100", "duplicate Data"),
        ("1a00", "unknown field 3"),
        ("0800", "varint Data"),
        ("0a05000102", "truncated Data"),
        ("0aff", "truncated length"),
        ("12050a0301020312", "truncated link"),
        ("12081200" + "0a0400120000", "Name before Hash"),
        ("0a8000", "non-minimal length varint"),
    ])
    func malformedNodesAreRefused(hex: String, reason: String) {
        #expect(throws: IPLDError.self, "\(reason)") { try PBNode(parsing: Vectors.hex(hex)) }
    }

    @Test func emptyNameIsWrittenWhenPresent() throws {
        let target = CID.v1(codec: .raw, multihash: .sha256([1]))
        let named = PBNode(links: [PBLink(hash: target, name: "", tsize: 1)])
        let unnamed = PBNode(links: [PBLink(hash: target, tsize: 1)])
        #expect(named.bytes.count == unnamed.bytes.count + 2)
        #expect(try PBNode(parsing: named.bytes) == named)
        #expect(try PBNode(parsing: unnamed.bytes) == unnamed)
    }
}
