import Multiformats

/// A value of the IPLD data model: what every IPLD codec decodes to and encodes from.
///
/// Implements ipld/specs `data-model-layer/data-model.md` (the kinds Null, Boolean, Integer,
/// Float, String, Bytes, List, Map and Link). Map keys are strings, as DAG-CBOR, DAG-JSON and
/// DAG-PB require; key order is the codec's business, so a map is a dictionary.
///
/// Swift compares strings by canonical equivalence, so two map keys that differ only in Unicode
/// normalization count as one key here; the decoders refuse such a map as a duplicate.
public indirect enum IPLDValue: Hashable, Sendable {
    /// The null value.
    case null
    /// A Boolean.
    case bool(Bool)
    /// An integer in −2⁶⁴ … 2⁶⁴−1.
    case integer(IPLDInteger)
    /// A finite IEEE 754 double (NaN and infinities are not in the data model).
    case float(Double)
    /// A byte string.
    case bytes([UInt8])
    /// A Unicode string.
    case string(String)
    /// An ordered list.
    case list([IPLDValue])
    /// A map with string keys.
    case map([String: IPLDValue])
    /// A link to another block.
    case link(CID)

    /// An integer value from an `Int`.
    public static func int(_ value: Int) -> IPLDValue { .integer(IPLDInteger(value)) }

    /// The value under `key` if this is a map, else `nil`.
    public subscript(key: String) -> IPLDValue? {
        if case .map(let map) = self { return map[key] }
        return nil
    }

    /// The map, if this is one.
    public var mapValue: [String: IPLDValue]? {
        if case .map(let value) = self { return value }
        return nil
    }

    /// The list, if this is one.
    public var listValue: [IPLDValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The bytes, if this is a byte string.
    public var bytesValue: [UInt8]? {
        if case .bytes(let value) = self { return value }
        return nil
    }

    /// The CID, if this is a link.
    public var linkValue: CID? {
        if case .link(let value) = self { return value }
        return nil
    }

    /// The integer, if this is one.
    public var integerValue: IPLDInteger? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The Boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is the null value.
    public var isNull: Bool { self == .null }
}
