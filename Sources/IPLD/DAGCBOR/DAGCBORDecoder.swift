import Multiformats

/// A strict DAG-CBOR reader over one block (ipld/specs `codecs/dag-cbor/spec.md`).
struct DAGCBORDecoder {
    private let bytes: [UInt8]
    private var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }
    var remaining: Int { bytes.count - index }

    private mutating func readByte() throws -> UInt8 {
        guard index < bytes.count else { throw IPLDError(.truncated, "DAG-CBOR input ends early") }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw IPLDError(.truncated, "DAG-CBOR item needs \(count) bytes, \(remaining) left")
        }
        defer { index += count }
        return bytes[index..<index + count]
    }

    private mutating func readUInt(_ width: Int) throws -> UInt64 {
        try readBytes(width).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads the argument of a header whose additional information is `info`, refusing
    /// non-minimal and indefinite forms (dag-cbor "Strictness").
    private mutating func readArgument(_ info: UInt8) throws -> UInt64 {
        switch info {
        case 0..<24:
            return UInt64(info)
        case 24:
            let value = try readUInt(1)
            guard value >= 24 else { throw IPLDError(.nonCanonical, "integer \(value) not in its shortest form") }
            return value
        case 25:
            let value = try readUInt(2)
            guard value > 0xff else { throw IPLDError(.nonCanonical, "integer \(value) not in its shortest form") }
            return value
        case 26:
            let value = try readUInt(4)
            guard value > 0xffff else { throw IPLDError(.nonCanonical, "integer \(value) not in its shortest form") }
            return value
        case 27:
            let value = try readUInt(8)
            guard value > 0xffff_ffff else { throw IPLDError(.nonCanonical, "integer \(value) not in its shortest form") }
            return value
        case 31:
            throw IPLDError(.nonCanonical, "indefinite-length items are not allowed in DAG-CBOR")
        default:
            throw IPLDError(.malformedInput, "reserved CBOR additional information \(info)")
        }
    }

    /// Reads a length and checks it against what is left of the block, so a forged length never
    /// causes a large allocation. `minimumItemSize` is the fewest bytes one element can take.
    private mutating func readLength(_ info: UInt8, minimumItemSize: Int) throws -> Int {
        let length = try readArgument(info)
        guard length <= UInt64(remaining / minimumItemSize) else {
            throw IPLDError(.truncated, "DAG-CBOR length \(length) exceeds the \(remaining) bytes left")
        }
        return Int(length)
    }

    private mutating func readString(_ info: UInt8) throws -> (String, ArraySlice<UInt8>) {
        let length = try readLength(info, minimumItemSize: 1)
        let utf8 = try readBytes(length)
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw IPLDError(.malformedInput, "DAG-CBOR string is not valid UTF-8")
        }
        return (string, utf8)
    }

    mutating func decodeValue(depth: Int) throws -> IPLDValue {
        let initial = try readByte()
        let major = initial >> 5
        let info = initial & 0x1f
        switch major {
        case 0:
            return .integer(IPLDInteger(isNegative: false, cborArgument: try readArgument(info)))
        case 1:
            return .integer(IPLDInteger(isNegative: true, cborArgument: try readArgument(info)))
        case 2:
            let length = try readLength(info, minimumItemSize: 1)
            return .bytes(Array(try readBytes(length)))
        case 3:
            return .string(try readString(info).0)
        case 4:
            guard depth < DAGCBOR.maxNestingDepth else {
                throw IPLDError(.limitExceeded, "DAG-CBOR nesting deeper than \(DAGCBOR.maxNestingDepth)")
            }
            let count = try readLength(info, minimumItemSize: 1)
            var list: [IPLDValue] = []
            list.reserveCapacity(count)
            for _ in 0..<count { list.append(try decodeValue(depth: depth + 1)) }
            return .list(list)
        case 5:
            guard depth < DAGCBOR.maxNestingDepth else {
                throw IPLDError(.limitExceeded, "DAG-CBOR nesting deeper than \(DAGCBOR.maxNestingDepth)")
            }
            let count = try readLength(info, minimumItemSize: 2)
            var map: [String: IPLDValue] = [:]
            map.reserveCapacity(count)
            var previousKey: ArraySlice<UInt8>?
            for _ in 0..<count {
                let keyByte = try readByte()
                guard keyByte >> 5 == 3 else {
                    throw IPLDError(.unsupportedValue, "DAG-CBOR map keys must be strings")
                }
                let (key, keyBytes) = try readString(keyByte & 0x1f)
                if let previousKey {
                    if previousKey.elementsEqual(keyBytes) {
                        throw IPLDError(.nonCanonical, "duplicate map key \"\(key)\"")
                    }
                    guard dagCBORKeyPrecedes(Array(previousKey), Array(keyBytes)) else {
                        throw IPLDError(.nonCanonical, "map key \"\(key)\" out of length-first order")
                    }
                }
                previousKey = keyBytes
                let value = try decodeValue(depth: depth + 1)
                guard map.updateValue(value, forKey: key) == nil else {
                    throw IPLDError(.nonCanonical, "duplicate map key \"\(key)\" (Unicode-equivalent)")
                }
            }
            return .map(map)
        case 6:
            let tag = try readArgument(info)
            guard tag == DAGCBOR.cidTag else {
                throw IPLDError(.unsupportedValue, "CBOR tag \(tag) is not allowed in DAG-CBOR (only 42)")
            }
            let contentByte = try readByte()
            guard contentByte >> 5 == 2 else {
                throw IPLDError(.malformedInput, "tag 42 must wrap a byte string")
            }
            let length = try readLength(contentByte & 0x1f, minimumItemSize: 1)
            let content = try readBytes(length)
            guard content.first == 0x00 else {
                throw IPLDError(.malformedInput, "tag 42 CID bytes must start with the 0x00 multibase prefix")
            }
            do {
                return .link(try CID(bytes: content.dropFirst()))
            } catch {
                throw IPLDError(.malformedInput, "tag 42 holds an invalid CID", underlying: error)
            }
        default:
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 27:
                let value = Double(bitPattern: try readUInt(8))
                guard value.isFinite else {
                    throw IPLDError(.unsupportedValue, "NaN and infinities are not allowed in DAG-CBOR")
                }
                return .float(value)
            case 25, 26:
                throw IPLDError(.nonCanonical, "DAG-CBOR floats must be 64-bit")
            case 23:
                throw IPLDError(.unsupportedValue, "undefined is not allowed in DAG-CBOR")
            default:
                throw IPLDError(.unsupportedValue, "CBOR simple value \(info) is not allowed in DAG-CBOR")
            }
        }
    }
}
