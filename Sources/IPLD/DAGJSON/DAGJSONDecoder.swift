import Multiformats

/// A DAG-JSON reader (ipld/specs `codecs/dag-json/spec.md`, RFC 8259 grammar).
struct DAGJSONDecoder {
    private let bytes: [UInt8]
    private var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func decodeDocument() throws -> IPLDValue {
        let value = try decodeValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else {
            throw IPLDError(.malformedInput, "\(bytes.count - index) bytes after the DAG-JSON value")
        }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    private mutating func peek() throws -> UInt8 {
        skipWhitespace()
        guard index < bytes.count else { throw IPLDError(.truncated, "DAG-JSON input ends early") }
        return bytes[index]
    }

    private mutating func expect(_ literal: String) throws {
        let utf8 = Array(literal.utf8)
        guard bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            throw IPLDError(.malformedInput, "expected \(literal) in DAG-JSON")
        }
        index += utf8.count
    }

    private mutating func decodeValue(depth: Int) throws -> IPLDValue {
        guard depth <= DAGJSON.maxNestingDepth else {
            throw IPLDError(.limitExceeded, "DAG-JSON nesting deeper than \(DAGJSON.maxNestingDepth)")
        }
        switch try peek() {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try decodeString())
        case UInt8(ascii: "["):
            index += 1
            var list: [IPLDValue] = []
            if try peek() == UInt8(ascii: "]") { index += 1; return .list(list) }
            while true {
                list.append(try decodeValue(depth: depth + 1))
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "]") { return .list(list) }
                guard next == UInt8(ascii: ",") else { throw IPLDError(.malformedInput, "expected , or ] in DAG-JSON list") }
            }
        case UInt8(ascii: "{"):
            index += 1
            var map: [String: IPLDValue] = [:]
            if try peek() == UInt8(ascii: "}") { index += 1; return .map(map) }
            while true {
                guard try peek() == UInt8(ascii: "\"") else { throw IPLDError(.malformedInput, "DAG-JSON map key must be a string") }
                let key = try decodeString()
                guard try peek() == UInt8(ascii: ":") else { throw IPLDError(.malformedInput, "expected : in DAG-JSON map") }
                index += 1
                let value = try decodeValue(depth: depth + 1)
                guard map.updateValue(value, forKey: key) == nil else {
                    throw IPLDError(.nonCanonical, "duplicate map key \"\(key)\"")
                }
                let next = try peek()
                index += 1
                if next == UInt8(ascii: "}") { return try Self.interpretSlash(map) }
                guard next == UInt8(ascii: ",") else { throw IPLDError(.malformedInput, "expected , or } in DAG-JSON map") }
            }
        default:
            return try decodeNumber()
        }
    }

    /// Turns `{"/": "cid"}` into a link and `{"/": {"bytes": "…"}}` into bytes (dag-json "Links",
    /// "Bytes"); other maps stay maps.
    private static func interpretSlash(_ map: [String: IPLDValue]) throws -> IPLDValue {
        guard map.count == 1, let slash = map["/"] else { return .map(map) }
        switch slash {
        case .string(let text):
            do {
                return .link(try CID(parsing: text))
            } catch {
                throw IPLDError(.malformedInput, "DAG-JSON link \"\(text)\" is not a CID", underlying: error)
            }
        case .map(let inner) where inner.count == 1:
            guard case .string(let base64) = inner["bytes"] else { return .map(map) }
            do {
                return .bytes(try Multibase.base64.decodeWithoutPrefix(base64))
            } catch {
                throw IPLDError(.malformedInput, "DAG-JSON bytes are not unpadded base64", underlying: error)
            }
        default:
            return .map(map)
        }
    }

    private mutating func readHex4() throws -> UInt32 {
        guard bytes.count - index >= 4, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
            throw IPLDError(.malformedInput, "bad \\u escape in DAG-JSON string")
        }
        index += 4
        return value
    }

    private mutating func decodeString() throws -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else { throw IPLDError(.truncated, "DAG-JSON string not terminated") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw IPLDError(.malformedInput, "DAG-JSON string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw IPLDError(.truncated, "DAG-JSON string not terminated") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0c)
                case UInt8(ascii: "n"): utf8.append(0x0a)
                case UInt8(ascii: "r"): utf8.append(0x0d)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xd800..<0xdc00).contains(scalar) {
                        try expect("\\u")
                        let low = try readHex4()
                        guard (0xdc00..<0xe000).contains(low) else { throw IPLDError(.malformedInput, "unpaired surrogate in DAG-JSON string") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw IPLDError(.malformedInput, "unpaired surrogate in DAG-JSON string") }
                    utf8 += Array(String(Character(unicode)).utf8)
                default:
                    throw IPLDError(.malformedInput, "bad escape in DAG-JSON string")
                }
            case 0..<0x20:
                throw IPLDError(.malformedInput, "control character in DAG-JSON string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func decodeNumber() throws -> IPLDValue {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        guard digits() > 0 else { throw IPLDError(.malformedInput, "unexpected character in DAG-JSON") }
        if index - integerStart > 1, bytes[integerStart] == UInt8(ascii: "0") {
            throw IPLDError(.malformedInput, "leading zero in DAG-JSON number")
        }
        var isFloat = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            isFloat = true
            guard digits() > 0 else { throw IPLDError(.malformedInput, "bad fraction in DAG-JSON number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            isFloat = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw IPLDError(.malformedInput, "bad exponent in DAG-JSON number") }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isFloat {
            guard let value = Double(text), value.isFinite else {
                throw IPLDError(.unsupportedValue, "DAG-JSON float \(text) is out of range")
            }
            return .float(value)
        }
        guard let integer = IPLDInteger(decimal: text) else {
            throw IPLDError(.unsupportedValue, "DAG-JSON integer \(text) is out of range")
        }
        return .integer(integer)
    }
}
