import Multiformats

/// The DAG-JSON codec (multicodec `dag-json` = 0x0129).
///
/// Implements ipld/specs `codecs/dag-json/spec.md`: links are `{"/": "<CID text>"}`, bytes are
/// `{"/": {"bytes": "<base64, standard alphabet, unpadded>"}}`, integers are numbers without a
/// fraction or exponent, floats are numbers with one. Encoding is canonical as the reference
/// implementations write it: no whitespace, map keys sorted bytewise (not length-first as in
/// DAG-CBOR), non-ASCII text unescaped. Decoding refuses duplicate keys, NaN, and integers
/// outside −2⁶⁴ … 2⁶⁴−1.
public enum DAGJSON {
    /// The multicodec of DAG-JSON blocks.
    public static let codec = Multicodec.dagJSON
    /// The deepest nesting of lists and maps accepted.
    public static let maxNestingDepth = DAGCBOR.maxNestingDepth
    /// The longest block accepted by ``decode(_:)``, in bytes.
    public static let maxBlockLength = DAGCBOR.maxBlockLength

    /// Decodes one DAG-JSON document.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> IPLDValue {
        guard bytes.count <= maxBlockLength else {
            throw IPLDError(.limitExceeded, "DAG-JSON block of \(bytes.count) bytes exceeds \(maxBlockLength)")
        }
        var decoder = DAGJSONDecoder(bytes: Array(bytes))
        return try decoder.decodeDocument()
    }

    /// Encodes `value` as canonical DAG-JSON.
    ///
    /// - Throws: ``IPLDError`` `.unsupportedValue` for non-finite floats.
    public static func encode(_ value: IPLDValue) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, into: &bytes, depth: 0)
        return bytes
    }

    /// The CIDv1 (dag-json, sha2-256) of encoded bytes.
    public static func cid(of bytes: some Sequence<UInt8>) -> CID {
        CID.v1(codec: codec, multihash: Multihash.sha256(bytes))
    }

    private static func encode(_ value: IPLDValue, into bytes: inout [UInt8], depth: Int) throws {
        guard depth <= maxNestingDepth else {
            throw IPLDError(.limitExceeded, "nesting deeper than \(maxNestingDepth)")
        }
        switch value {
        case .null: bytes += Array("null".utf8)
        case .bool(let flag): bytes += Array((flag ? "true" : "false").utf8)
        case .integer(let integer): bytes += Array(integer.description.utf8)
        case .float(let double): bytes += Array(try formatFloat(double).utf8)
        case .string(let string): writeString(string, into: &bytes)
        case .bytes(let data):
            bytes += Array(#"{"/":{"bytes":""#.utf8)
            bytes += Array(Multibase.base64.encodeWithoutPrefix(data).utf8)
            bytes += Array(#""}}"#.utf8)
        case .link(let cid):
            bytes += Array(#"{"/":""#.utf8)
            bytes += Array(cid.description.utf8)
            bytes += Array(#""}"#.utf8)
        case .list(let list):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in list.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try encode(item, into: &bytes, depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "]"))
        case .map(let map):
            bytes.append(UInt8(ascii: "{"))
            let entries = map.map { (key: Array($0.key.utf8), value: $0.value) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for (index, entry) in entries.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                writeString(utf8: entry.key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                try encode(entry.value, into: &bytes, depth: depth + 1)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// The shortest round-tripping decimal, in JavaScript's exponent style (`8.9e-8`, `1e+21`).
    static func formatFloat(_ value: Double) throws -> String {
        guard value.isFinite else {
            throw IPLDError(.unsupportedValue, "NaN and infinities cannot be encoded in DAG-JSON")
        }
        var text = "\(value)"
        if let e = text.firstIndex(of: "e") {
            var mantissa = String(text[..<e])
            if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
            var exponent = text[text.index(after: e)...]
            let sign = exponent.first == "-" ? "-" : "+"
            if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
            let digits = exponent.drop { $0 == "0" }
            text = mantissa + "e" + sign + (digits.isEmpty ? "0" : String(digits))
        }
        return text
    }

    private static func writeString(_ string: String, into bytes: inout [UInt8]) {
        writeString(utf8: Array(string.utf8), into: &bytes)
    }

    private static func writeString(utf8: [UInt8], into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [0x5c, 0x22]
            case UInt8(ascii: "\\"): bytes += [0x5c, 0x5c]
            case 0x08: bytes += [0x5c, UInt8(ascii: "b")]
            case 0x0c: bytes += [0x5c, UInt8(ascii: "f")]
            case 0x0a: bytes += [0x5c, UInt8(ascii: "n")]
            case 0x0d: bytes += [0x5c, UInt8(ascii: "r")]
            case 0x09: bytes += [0x5c, UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension IPLDValue {
    /// Decodes a DAG-JSON block (see ``DAGJSON/decode(_:)``).
    public init(dagJSON bytes: some Collection<UInt8>) throws {
        self = try DAGJSON.decode(bytes)
    }
}
