extension Multiaddr {
    /// One protocol and its value in a multiaddr (multiaddr spec, protocols.csv).
    public enum Component: Hashable, Sendable, CustomStringConvertible {
        /// `/ip4/a.b.c.d` (code 4): 4 address bytes.
        case ip4([UInt8])
        /// `/ip6/…` (code 41): 16 address bytes; text is RFC 5952 (e.g. `::1`).
        case ip6([UInt8])
        /// `/tcp/port` (code 6): 2-byte big-endian port.
        case tcp(UInt16)
        /// `/udp/port` (code 273): 2-byte big-endian port.
        case udp(UInt16)
        /// `/dns/name` (code 53): length-prefixed UTF-8.
        case dns(String)
        /// `/dns4/name` (code 54): length-prefixed UTF-8.
        case dns4(String)
        /// `/dns6/name` (code 55): length-prefixed UTF-8.
        case dns6(String)
        /// `/dnsaddr/name` (code 56): length-prefixed UTF-8.
        case dnsaddr(String)
        /// `/p2p/peerID` (code 421, text alias `/ipfs/`): length-prefixed multihash; text is
        /// base58btc, and CIDv1 `libp2p-key` text is accepted on input.
        case p2p(Multihash)
        /// `/p2p-circuit` (code 290): no value.
        case p2pCircuit
        /// `/quic` (code 460, draft-29): no value.
        case quic
        /// `/quic-v1` (code 461): no value.
        case quicV1
        /// `/ws` (code 477): no value.
        case ws
        /// `/wss` (code 478): no value.
        case wss
        /// `/tls` (code 448): no value.
        case tls
        /// `/noise` (code 454): no value.
        case noise
        /// `/webtransport` (code 465): no value.
        case webtransport
        /// `/certhash/<multibase multihash>` (code 466). Binary: length-prefixed multihash.
        ///
        /// Always holds the canonical text, `u` + base64url of the multihash, as go-multiaddr
        /// prints it; text in other multibases is converted when parsed.
        case certhash(String)

        /// The protocol's multicodec code.
        public var code: Multicodec {
            switch self {
            case .ip4: .ip4
            case .ip6: .ip6
            case .tcp: .tcp
            case .udp: .udp
            case .dns: .dns
            case .dns4: .dns4
            case .dns6: .dns6
            case .dnsaddr: .dnsaddr
            case .p2p: .p2p
            case .p2pCircuit: .p2pCircuit
            case .quic: .quic
            case .quicV1: .quicV1
            case .ws: .ws
            case .wss: .wss
            case .tls: .tls
            case .noise: .noise
            case .webtransport: .webtransport
            case .certhash: .certhash
            }
        }

        /// The protocol name used in text form, e.g. `"quic-v1"`.
        public var protocolName: String {
            code.name ?? code.description
        }

        /// The value's text form, or `nil` for protocols without a value.
        public var valueText: String? {
            switch self {
            case .ip4(let bytes): bytes.map { String($0) }.joined(separator: ".")
            case .ip6(let bytes): Self.formatIPv6(bytes)
            case .tcp(let port), .udp(let port): String(port)
            case .dns(let name), .dns4(let name), .dns6(let name), .dnsaddr(let name): name
            case .p2p(let multihash): Base58.encode(multihash.bytes)
            case .certhash(let text): text
            case .p2pCircuit, .quic, .quicV1, .ws, .wss, .tls, .noise, .webtransport: nil
            }
        }

        /// The component's text form, e.g. `/tcp/4001` (multiaddr spec).
        public var description: String {
            if let value = valueText { return "/\(protocolName)/\(value)" }
            return "/\(protocolName)"
        }

        /// Appends `varint(code) ‖ value` to `bytes` (multiaddr spec).
        public func encode(into bytes: inout [UInt8]) {
            Varint.encode(code.rawValue, into: &bytes)
            switch self {
            case .ip4(let address), .ip6(let address):
                bytes.append(contentsOf: address)
            case .tcp(let port), .udp(let port):
                bytes.append(UInt8(port >> 8))
                bytes.append(UInt8(truncatingIfNeeded: port))
            case .dns(let name), .dns4(let name), .dns6(let name), .dnsaddr(let name):
                Varint.encode(UInt64(name.utf8.count), into: &bytes)
                bytes.append(contentsOf: name.utf8)
            case .p2p(let multihash):
                let value = multihash.bytes
                Varint.encode(UInt64(value.count), into: &bytes)
                bytes.append(contentsOf: value)
            case .certhash(let text):
                // Holds canonical base64url text of a multihash by construction.
                let value = (try? Multibase.decode(text).bytes) ?? []
                Varint.encode(UInt64(value.count), into: &bytes)
                bytes.append(contentsOf: value)
            case .p2pCircuit, .quic, .quicV1, .ws, .wss, .tls, .noise, .webtransport:
                break
            }
        }

        // MARK: Text parsing

        static func protocolTakesValue(_ name: Substring) -> Bool {
            switch name {
            case "ip4", "ip6", "tcp", "udp", "dns", "dns4", "dns6", "dnsaddr", "p2p", "ipfs", "certhash": true
            default: false
            }
        }

        /// Parses one component from its protocol name and value text (multiaddr spec).
        init(protocolName name: Substring, value: Substring?) throws {
            func requireValue() throws -> Substring {
                guard let value, !value.isEmpty else {
                    throw MultiformatsError(.invalidMultiaddr, "/\(name) needs a non-empty value")
                }
                return value
            }
            switch name {
            case "ip4":
                let text = try requireValue()
                guard let address = Self.parseIPv4(text) else {
                    throw MultiformatsError(.invalidMultiaddr, "invalid IPv4 address \(text.debugDescription)")
                }
                self = .ip4(address)
            case "ip6":
                let text = try requireValue()
                guard let address = Self.parseIPv6(text) else {
                    throw MultiformatsError(.invalidMultiaddr, "invalid IPv6 address \(text.debugDescription)")
                }
                self = .ip6(address)
            case "tcp": self = .tcp(try Self.parsePort(requireValue()))
            case "udp": self = .udp(try Self.parsePort(requireValue()))
            case "dns": self = .dns(try Self.checkedName(String(requireValue())))
            case "dns4": self = .dns4(try Self.checkedName(String(requireValue())))
            case "dns6": self = .dns6(try Self.checkedName(String(requireValue())))
            case "dnsaddr": self = .dnsaddr(try Self.checkedName(String(requireValue())))
            case "p2p", "ipfs": self = .p2p(try Self.parsePeerID(requireValue()))
            case "certhash":
                let (_, bytes) = try Multibase.decode(String(requireValue()))
                self = try Self.certhash(bytes: bytes)
            case "p2p-circuit": self = .p2pCircuit
            case "quic": self = .quic
            case "quic-v1": self = .quicV1
            case "ws": self = .ws
            case "wss": self = .wss
            case "tls": self = .tls
            case "noise": self = .noise
            case "webtransport": self = .webtransport
            default:
                throw MultiformatsError(.unsupportedCode, "unsupported multiaddr protocol \(name.debugDescription)")
            }
        }

        private static func certhash(bytes: [UInt8]) throws -> Component {
            guard bytes.count <= Multiaddr.maxValueLength else {
                throw MultiformatsError(.tooLarge, "certhash of \(bytes.count) bytes exceeds \(Multiaddr.maxValueLength)")
            }
            _ = try Multihash(bytes: bytes)
            return .certhash(Multibase.encode(bytes, as: .base64url))
        }

        private static func checkedName(_ name: String) throws -> String {
            guard !name.isEmpty, name.utf8.count <= Multiaddr.maxValueLength else {
                throw MultiformatsError(.invalidMultiaddr, "DNS name must be 1...\(Multiaddr.maxValueLength) bytes")
            }
            guard !name.contains("/") else {
                throw MultiformatsError(.invalidMultiaddr, "DNS name may not contain '/'")
            }
            return name
        }

        private static func parsePeerID(_ text: Substring) throws -> Multihash {
            if text.hasPrefix("Qm") || text.hasPrefix("1") {
                return try Multihash(bytes: Base58.decode(String(text)))
            }
            let cid = try CID(parsing: String(text))
            guard cid.codec == .libp2pKey else {
                throw MultiformatsError(.invalidMultiaddr, "peer ID CID has codec \(cid.codec), not libp2p-key")
            }
            return cid.multihash
        }

        private static func parseDecimal(_ text: Substring, max: Int) -> Int? {
            guard !text.isEmpty, text.utf8.count <= 5 else { return nil }
            var value = 0
            for byte in text.utf8 {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                guard value <= max else { return nil }
            }
            return value
        }

        private static func parsePort(_ text: Substring) throws -> UInt16 {
            guard let port = parseDecimal(text, max: Int(UInt16.max)) else {
                throw MultiformatsError(.invalidMultiaddr, "invalid port \(text.debugDescription)")
            }
            return UInt16(port)
        }

        /// Dotted-quad IPv4; refuses leading zeros, as Go's `net.ParseIP` does.
        static func parseIPv4(_ text: Substring) -> [UInt8]? {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var address: [UInt8] = []
            for part in parts {
                guard part.utf8.count <= 3, part == "0" || !part.hasPrefix("0"),
                      let value = parseDecimal(part, max: 255) else { return nil }
                address.append(UInt8(value))
            }
            return address
        }

        /// RFC 4291 §2.2 text: hex groups, at most one `::`, optional dotted-quad tail. No zones.
        static func parseIPv6(_ text: Substring) -> [UInt8]? {
            guard text.utf8.count <= 45 else { return nil }
            func groups(_ part: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
                if part.isEmpty { return [] }
                let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
                var result: [UInt16] = []
                for (index, piece) in pieces.enumerated() {
                    if allowIPv4Tail, index == pieces.count - 1, piece.contains(".") {
                        guard let v4 = parseIPv4(piece) else { return nil }
                        result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                        result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                        continue
                    }
                    guard (1...4).contains(piece.utf8.count), let value = UInt16(piece, radix: 16),
                          piece.utf8.allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else { return nil }
                    result.append(value)
                }
                return result
            }
            let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
            var words: [UInt16]
            switch halves.count {
            case 1:
                guard let all = groups(halves[0], allowIPv4Tail: true), all.count == 8 else { return nil }
                words = all
            case 2:
                guard let head = groups(halves[0], allowIPv4Tail: false),
                      let tail = groups(halves[1], allowIPv4Tail: true),
                      head.count + tail.count <= 7 else { return nil }
                words = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
            default:
                return nil
            }
            return words.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] }
        }

        /// RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`.
        static func formatIPv6(_ bytes: [UInt8]) -> String {
            guard bytes.count == 16 else { return bytes.map { String($0, radix: 16) }.joined(separator: ":") }
            let words = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
            var bestStart = -1
            var bestLength = 0
            var index = 0
            while index < 8 {
                guard words[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8 && words[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            }
            let hex = words.map { String($0, radix: 16) }
            guard bestLength >= 2 else { return hex.joined(separator: ":") }
            let head = hex[..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
            return head + "::" + tail
        }

        // MARK: Binary parsing

        /// Parses one component at the start of `bytes` (multiaddr spec).
        ///
        /// - Returns: the component and the number of bytes it occupied.
        public static func parsePrefix(_ bytes: some Collection<UInt8>) throws -> (Component, length: Int) {
            let (code, codeLength) = try Varint.decode(bytes)
            let rest = bytes.dropFirst(codeLength)
            func fixed(_ count: Int) throws -> [UInt8] {
                let value = Array(rest.prefix(count))
                guard value.count == count else {
                    throw MultiformatsError(.truncated, "\(Multicodec(code)) needs \(count) bytes, got \(value.count)")
                }
                return value
            }
            func lengthPrefixed() throws -> (value: [UInt8], length: Int) {
                let (length, lengthLength) = try Varint.decode(rest)
                guard length <= UInt64(Multiaddr.maxValueLength) else {
                    throw MultiformatsError(.tooLarge, "\(Multicodec(code)) value of \(length) bytes exceeds \(Multiaddr.maxValueLength)")
                }
                let value = Array(rest.dropFirst(lengthLength).prefix(Int(length)))
                guard value.count == Int(length) else {
                    throw MultiformatsError(.truncated, "\(Multicodec(code)) value has \(value.count) of \(length) bytes")
                }
                return (value, lengthLength + value.count)
            }
            func name() throws -> (String, Int) {
                let (value, length) = try lengthPrefixed()
                guard let text = String(validating: value, as: UTF8.self) else {
                    throw MultiformatsError(.invalidMultiaddr, "\(Multicodec(code)) value is not UTF-8")
                }
                return (try checkedName(text), length)
            }
            let component: Component
            let valueLength: Int
            switch Multicodec(code) {
            case .ip4: (component, valueLength) = (.ip4(try fixed(4)), 4)
            case .ip6: (component, valueLength) = (.ip6(try fixed(16)), 16)
            case .tcp:
                let port = try fixed(2)
                (component, valueLength) = (.tcp(UInt16(port[0]) << 8 | UInt16(port[1])), 2)
            case .udp:
                let port = try fixed(2)
                (component, valueLength) = (.udp(UInt16(port[0]) << 8 | UInt16(port[1])), 2)
            case .dns:
                let (text, length) = try name()
                (component, valueLength) = (.dns(text), length)
            case .dns4:
                let (text, length) = try name()
                (component, valueLength) = (.dns4(text), length)
            case .dns6:
                let (text, length) = try name()
                (component, valueLength) = (.dns6(text), length)
            case .dnsaddr:
                let (text, length) = try name()
                (component, valueLength) = (.dnsaddr(text), length)
            case .p2p:
                let (value, length) = try lengthPrefixed()
                (component, valueLength) = (.p2p(try Multihash(bytes: value)), length)
            case .certhash:
                let (value, length) = try lengthPrefixed()
                (component, valueLength) = (try certhash(bytes: value), length)
            case .p2pCircuit: (component, valueLength) = (.p2pCircuit, 0)
            case .quic: (component, valueLength) = (.quic, 0)
            case .quicV1: (component, valueLength) = (.quicV1, 0)
            case .ws: (component, valueLength) = (.ws, 0)
            case .wss: (component, valueLength) = (.wss, 0)
            case .tls: (component, valueLength) = (.tls, 0)
            case .noise: (component, valueLength) = (.noise, 0)
            case .webtransport: (component, valueLength) = (.webtransport, 0)
            default:
                throw MultiformatsError(.unsupportedCode, "unsupported multiaddr protocol code \(Multicodec(code))")
            }
            return (component, codeLength + valueLength)
        }
    }
}
