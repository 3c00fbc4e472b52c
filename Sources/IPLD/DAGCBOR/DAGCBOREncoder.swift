import Multiformats

/// The canonical DAG-CBOR writer (ipld/specs `codecs/dag-cbor/spec.md`).
struct DAGCBOREncoder {
    private(set) var bytes: [UInt8] = []

    /// Writes a header with the shortest argument encoding (RFC 8949 §4.2.1).
    private mutating func writeHeader(major: UInt8, _ argument: UInt64) {
        let base = major << 5
        switch argument {
        case 0..<24:
            bytes.append(base | UInt8(argument))
        case 24...0xff:
            bytes.append(base | 24)
            bytes.append(UInt8(argument))
        case 0x100...0xffff:
            bytes.append(base | 25)
            appendBigEndian(argument, width: 2)
        case 0x1_0000...0xffff_ffff:
            bytes.append(base | 26)
            appendBigEndian(argument, width: 4)
        default:
            bytes.append(base | 27)
            appendBigEndian(argument, width: 8)
        }
    }

    private mutating func appendBigEndian(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func encode(_ value: IPLDValue, depth: Int) throws {
        switch value {
        case .null:
            bytes.append(0xf6)
        case .bool(let flag):
            bytes.append(flag ? 0xf5 : 0xf4)
        case .integer(let integer):
            writeHeader(major: integer.isNegative ? 1 : 0, integer.cborArgument)
        case .float(let double):
            guard double.isFinite else {
                throw IPLDError(.unsupportedValue, "NaN and infinities cannot be encoded in DAG-CBOR")
            }
            bytes.append(0xfb)
            appendBigEndian(double.bitPattern, width: 8)
        case .bytes(let data):
            writeHeader(major: 2, UInt64(data.count))
            bytes.append(contentsOf: data)
        case .string(let string):
            writeHeader(major: 3, UInt64(string.utf8.count))
            bytes.append(contentsOf: string.utf8)
        case .list(let list):
            guard depth < DAGCBOR.maxNestingDepth else {
                throw IPLDError(.limitExceeded, "nesting deeper than \(DAGCBOR.maxNestingDepth)")
            }
            writeHeader(major: 4, UInt64(list.count))
            for item in list { try encode(item, depth: depth + 1) }
        case .map(let map):
            guard depth < DAGCBOR.maxNestingDepth else {
                throw IPLDError(.limitExceeded, "nesting deeper than \(DAGCBOR.maxNestingDepth)")
            }
            writeHeader(major: 5, UInt64(map.count))
            let entries = map.map { (key: Array($0.key.utf8), value: $0.value) }
                .sorted { dagCBORKeyPrecedes($0.key, $1.key) }
            for entry in entries {
                writeHeader(major: 3, UInt64(entry.key.count))
                bytes.append(contentsOf: entry.key)
                try encode(entry.value, depth: depth + 1)
            }
        case .link(let cid):
            writeHeader(major: 6, DAGCBOR.cidTag)
            let cidBytes = cid.bytes
            writeHeader(major: 2, UInt64(cidBytes.count + 1))
            bytes.append(0x00)
            bytes.append(contentsOf: cidBytes)
        }
    }
}
