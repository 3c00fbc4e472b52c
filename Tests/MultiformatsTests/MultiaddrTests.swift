import Testing
@testable import Multiformats

@Suite struct MultiaddrTests {
    static let peerID = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq"
    static let peerIDAsCID = "bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6"

    /// research/libp2p.md §2: `/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eck…` = `047f000001 060fa1 a50326 0024080112202ffa35…`.
    @Test func ip4TCPP2PEncoding() throws {
        let key = [0x08, 0x01, 0x12, 0x20, 0x2f, 0xfa, 0x35] + [UInt8](repeating: 0x11, count: 29)
        let peer = Multihash.identity(key)
        let text = "/ip4/127.0.0.1/tcp/4001/p2p/\(Base58.encode(peer.bytes))"
        #expect(text.hasPrefix("/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3ec"))
        let address = try Multiaddr(text)
        #expect(address.components == [.ip4([127, 0, 0, 1]), .tcp(4001), .p2p(peer)])
        #expect(hex(address.bytes).hasPrefix("047f000001" + "060fa1" + "a50326" + "0024080112202ffa35"))
        #expect(address.bytes.count == 5 + 3 + 3 + 38)
        #expect(address.description == text)
        #expect(try Multiaddr(bytes: address.bytes) == address)
    }

    /// research/libp2p.md §2: `/ip6/::1/udp/4001/quic-v1` = `29 00…01 9102 0fa1 cd03`.
    @Test func ip6UDPQUICEncoding() throws {
        let address = try Multiaddr("/ip6/::1/udp/4001/quic-v1")
        let expected = "29" + String(repeating: "00", count: 15) + "01" + "9102" + "0fa1" + "cd03"
        #expect(hex(address.bytes) == expected)
        #expect(try Multiaddr(bytes: bytes(hex: expected)) == address)
        #expect(address.description == "/ip6/::1/udp/4001/quic-v1")
    }

    @Test func peerIDTextForms() throws {
        let base58 = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(Self.peerID)")
        let cid = try Multiaddr("/ip4/1.2.3.4/tcp/1/p2p/\(Self.peerIDAsCID)")
        let ipfs = try Multiaddr("/ip4/1.2.3.4/tcp/1/ipfs/\(Self.peerID)/")
        #expect(base58 == cid)
        #expect(base58 == ipfs)
        #expect(cid.description == "/ip4/1.2.3.4/tcp/1/p2p/\(Self.peerID)")
        #expect(base58.peerIDMultihash.map { Base58.encode($0.bytes) } == Self.peerID)
        #expect(base58.removingPeerID().description == "/ip4/1.2.3.4/tcp/1")
        #expect(base58.removingPeerID().peerIDMultihash == nil)
        // A raw-codec CID is not a peer ID.
        #expect(code { try Multiaddr("/p2p/bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e") } == .invalidMultiaddr)
    }

    @Test func relayAddress() throws {
        let relay = "QmaeANgBs1DTSxWSrPPtobgQuxW8XTfsS4ydbK4rCHzqxG"
        let text = "/ip4/10.0.0.1/tcp/4001/p2p/\(relay)/p2p-circuit/p2p/\(Self.peerID)"
        let address = try Multiaddr(text)
        #expect(address.description == text)
        #expect(address.peerIDMultihash.map { Base58.encode($0.bytes) } == Self.peerID)
        let withoutTarget = address.removingPeerID()
        #expect(withoutTarget.description == "/ip4/10.0.0.1/tcp/4001/p2p/\(relay)/p2p-circuit")
        #expect(withoutTarget.peerIDMultihash.map { Base58.encode($0.bytes) } == relay)
        #expect(withoutTarget.removingPeerID() == withoutTarget)
        #expect(withoutTarget.appending(.p2p(try #require(address.peerIDMultihash))) == address)
        #expect(try Multiaddr(bytes: address.bytes) == address)
    }

    @Test(arguments: [
        "/dns4/example.com/tcp/443/wss",
        "/dns6/example.com/tcp/443/tls/ws",
        "/dns/example.com/udp/4001/quic",
        "/dnsaddr/bootstrap.libp2p.io",
        "/ip4/0.0.0.0/udp/4001/quic-v1/webtransport",
        "/ip4/192.168.1.10/tcp/65535/noise",
        "/ip6/2001:db8::1/tcp/0",
        "/ip4/1.2.3.4/tcp/1/p2p-circuit",
    ])
    func roundTrips(text: String) throws {
        let address = try Multiaddr(text)
        #expect(address.description == text)
        #expect(try Multiaddr(bytes: address.bytes) == address)
        #expect(try Multiaddr(address.description) == address)
    }

    @Test func dnsBinary() throws {
        let address = try Multiaddr("/dns4/a.io/tcp/80")
        #expect(hex(address.bytes) == "36" + "04" + hex(Array("a.io".utf8)) + "06" + "0050")
    }

    @Test func certhash() throws {
        let hash = Multihash.sha256([1, 2, 3])
        let canonical = Multibase.encode(hash.bytes, as: .base64url)
        let text = "/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/\(canonical)"
        let address = try Multiaddr(text)
        #expect(address.description == text)
        #expect(address.components.last == .certhash(canonical))
        let binary = address.bytes
        #expect(hex(binary).hasSuffix("d203" + "22" + hex(hash.bytes)))
        #expect(try Multiaddr(bytes: binary) == address)
        // Other multibases are accepted and printed canonically.
        let base32 = try Multiaddr("/certhash/\(Multibase.encode(hash.bytes, as: .base32))")
        #expect(base32.description == "/certhash/\(canonical)")
        #expect(code { try Multiaddr("/certhash/uAAE") } == .truncated)   // identity, 1 byte declared, none given
        #expect(code { try Multiaddr("/certhash/uAAAA") } == .trailingData)
    }

    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("1::", "1::"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("::ffff:1.2.3.4", "::ffff:102:304"),
        ("fe80::abcd:ef01:2345:6789", "fe80::abcd:ef01:2345:6789"),
    ])
    func ipv6TextIsRFC5952(input: String, expected: String) throws {
        let address = try Multiaddr("/ip6/\(input)")
        #expect(address.description == "/ip6/\(expected)")
        #expect(try Multiaddr(address.description) == address)
    }

    @Test(arguments: [
        "", "/", "//", "ip4/1.2.3.4", "/ip4", "/ip4/", "/ip4/256.0.0.1", "/ip4/01.2.3.4", "/ip4/1.2.3",
        "/ip4/1.2.3.4.5", "/ip4/1.2.3.4//tcp/1", "/ip4/1.2.3.4/tcp", "/tcp/65536", "/tcp/-1", "/tcp/+1", "/tcp/abc",
        "/tcp/123456", "/foo/1", "/ip4/1.2.3.4/tcp/1/junk", "/p2p/notbase58!", "/p2p/12D3", "/ip6/1:2:3:4:5:6:7:8:9",
        "/ip6/1::2::3", "/ip6/:::", "/ip6/12345::", "/ip6/::1%eth0", "/ip6/1:2:3:4:5:6:7:8::", "/ip6/::g",
        "/dns4/", "/certhash/", "/certhash/!!", "/quic-v1/1",
    ])
    func refusesBadText(text: String) {
        #expect(throws: MultiformatsError.self) { try Multiaddr(text) }
    }

    @Test func refusesBadBinary() throws {
        let valid = try Multiaddr("/ip4/127.0.0.1/tcp/4001/p2p/\(Self.peerID)/dns4/a.io").bytes
        for length in 0..<valid.count where ![5, 8, 49].contains(length) {
            #expect(throws: MultiformatsError.self) { try Multiaddr(bytes: valid.prefix(length)) }
        }
        #expect(code { try Multiaddr(bytes: [0x99, 0x01]) } == .unsupportedCode)        // unknown protocol
        #expect(code { try Multiaddr(bytes: [0x35, 0x88, 0x08] + [UInt8](repeating: 0x61, count: 1032)) } == .tooLarge)
        #expect(code { try Multiaddr(bytes: [0x35, 0x02, 0xff, 0xfe]) } == .invalidMultiaddr)  // not UTF-8
        #expect(code { try Multiaddr(bytes: [0x35, 0x00]) } == .invalidMultiaddr)              // empty name
        #expect(code { try Multiaddr(bytes: [0x35, 0x01, 0x2f]) } == .invalidMultiaddr)        // "/" in a name
        #expect(code { try Multiaddr(bytes: [0xa5, 0x03, 0x03, 0x00, 0x00, 0x00]) } == .trailingData) // p2p value
    }

    @Test func randomInputNeverCrashes() throws {
        var generator = SplitMix64(seed: 0x5eed)
        let alphabet = Array("/ip4ip6tcpudp2p:.0123456789abcdefQmz-".utf8)
        for _ in 0..<3000 {
            let count = Int(generator.next() % 40)
            let binary = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if let address = try? Multiaddr(bytes: binary) {
                #expect(address.bytes == binary)
            }
            _ = try? Multihash(bytes: binary)
            _ = try? CID(bytes: binary)
            let text = String(decoding: (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            if let address = try? Multiaddr(text) {
                #expect(try Multiaddr(bytes: address.bytes) == address)
            }
            _ = try? Multibase.decode(text)
            _ = CID(text)
        }
    }
}

/// A deterministic generator so the fuzz test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
