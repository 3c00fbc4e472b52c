import Testing
@testable import Multiformats

@Suite struct MulticodecTests {
    /// name → code from vectors/multiformats/multicodec-table.csv.
    static func table() throws -> [String: UInt64] {
        var table: [String: UInt64] = [:]
        for line in try Vectors.text("multiformats/multicodec-table.csv").split(whereSeparator: \.isNewline).dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 3, fields[2].hasPrefix("0x"), let code = UInt64(fields[2].dropFirst(2), radix: 16) else {
                continue
            }
            table[fields[0]] = code
        }
        return table
    }

    @Test func everyConstantMatchesTheTable() throws {
        let table = try Self.table()
        #expect(table.count > 400)
        #expect(Multicodec.known.count >= 26)
        for (codec, name) in Multicodec.known {
            #expect(table[name] == codec.rawValue, "\(name)")
            #expect(codec.name == name)
        }
    }

    @Test func requiredConstantsHaveTheirTableNames() {
        let expected: [(Multicodec, String)] = [
            (.identity, "identity"), (.sha2_256, "sha2-256"), (.raw, "raw"), (.dagPB, "dag-pb"),
            (.dagCBOR, "dag-cbor"), (.dagJSON, "dag-json"), (.libp2pKey, "libp2p-key"),
            (.ed25519Pub, "ed25519-pub"), (.ip4, "ip4"), (.ip6, "ip6"), (.tcp, "tcp"), (.udp, "udp"),
            (.dns, "dns"), (.dns4, "dns4"), (.dns6, "dns6"), (.dnsaddr, "dnsaddr"), (.p2p, "p2p"),
            (.p2pCircuit, "p2p-circuit"), (.quic, "quic"), (.quicV1, "quic-v1"), (.ws, "ws"), (.wss, "wss"),
            (.tls, "tls"), (.noise, "noise"), (.webtransport, "webtransport"), (.certhash, "certhash"),
        ]
        for (codec, name) in expected {
            #expect(codec.name == name)
            #expect(codec.description == name)
        }
        #expect(Multicodec(0x123456).name == nil)
        #expect(Multicodec(0x123456).description == "0x123456")
    }
}
