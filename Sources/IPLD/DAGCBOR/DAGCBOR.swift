import Multiformats

/// The DAG-CBOR codec (multicodec `dag-cbor` = 0x71): strict decoding and canonical encoding.
///
/// Implements ipld/specs `codecs/dag-cbor/spec.md`. Decoding accepts only the canonical form
/// ("Strictness"): minimal-length integer and length headers, definite lengths, string map keys
/// sorted length-first then bytewise without duplicates, tag 42 (a CID behind a 0x00 byte) and
/// no other tag, 64-bit floats that are finite, only the simple values false, true and null, and
/// valid UTF-8. Re-encoding a decoded block therefore gives back the same bytes and CID.
public enum DAGCBOR {
    /// The multicodec of DAG-CBOR blocks.
    public static let codec = Multicodec.dagCBOR
    /// The CBOR tag for links (ipld/specs dag-cbor "Links").
    public static let cidTag: UInt64 = 42
    /// The deepest nesting of lists and maps accepted when decoding or encoding.
    public static let maxNestingDepth = 512
    /// The longest block accepted by ``decode(_:)``, in bytes (blocks on the IPFS network are at
    /// most 2 MiB; this leaves room for large CAR-carried blocks).
    public static let maxBlockLength = 4 << 20

    /// Decodes one complete DAG-CBOR block.
    ///
    /// - Throws: ``IPLDError`` `.malformedInput`, `.nonCanonical`, `.truncated`,
    ///   `.limitExceeded` or `.unsupportedValue`; trailing bytes are `.malformedInput`.
    public static func decode(_ bytes: some Collection<UInt8>) throws -> IPLDValue {
        guard bytes.count <= maxBlockLength else {
            throw IPLDError(.limitExceeded, "DAG-CBOR block of \(bytes.count) bytes exceeds \(maxBlockLength)")
        }
        var decoder = DAGCBORDecoder(bytes: Array(bytes))
        let value = try decoder.decodeValue(depth: 0)
        guard decoder.isAtEnd else {
            throw IPLDError(.malformedInput, "\(decoder.remaining) bytes after the DAG-CBOR value")
        }
        return value
    }

    /// Encodes `value` in canonical DAG-CBOR.
    ///
    /// - Throws: ``IPLDError`` `.unsupportedValue` for NaN or infinite floats, `.limitExceeded`
    ///   past ``maxNestingDepth``.
    public static func encode(_ value: IPLDValue) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(value, into: &bytes)
        return bytes
    }

    /// Appends the canonical DAG-CBOR encoding of `value` to `bytes`.
    public static func encode(_ value: IPLDValue, into bytes: inout [UInt8]) throws {
        var encoder = DAGCBOREncoder()
        try encoder.encode(value, depth: 0)
        bytes.append(contentsOf: encoder.bytes)
    }

    /// Encodes `value` and returns the block with its CIDv1 (dag-cbor, sha2-256).
    public static func block(_ value: IPLDValue) throws -> (cid: CID, bytes: [UInt8]) {
        let bytes = try encode(value)
        return (cid(of: bytes), bytes)
    }

    /// The CIDv1 (dag-cbor, sha2-256) of already-encoded DAG-CBOR bytes.
    public static func cid(of bytes: some Sequence<UInt8>) -> CID {
        CID.v1(codec: codec, multihash: Multihash.sha256(bytes))
    }
}

extension IPLDValue {
    /// Decodes a DAG-CBOR block (see ``DAGCBOR/decode(_:)``).
    public init(dagCBOR bytes: some Collection<UInt8>) throws {
        self = try DAGCBOR.decode(bytes)
    }

    /// This value in canonical DAG-CBOR (see ``DAGCBOR/encode(_:)``).
    public func dagCBORBytes() throws -> [UInt8] {
        try DAGCBOR.encode(self)
    }
}

/// Orders map keys as DAG-CBOR requires: shorter UTF-8 first, then bytewise
/// (ipld/specs dag-cbor "Strictness", RFC 7049 §3.9 canonical order).
func dagCBORKeyPrecedes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    if lhs.count != rhs.count { return lhs.count < rhs.count }
    return lhs.lexicographicallyPrecedes(rhs)
}
