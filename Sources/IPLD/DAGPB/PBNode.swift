import Multiformats

/// A DAG-PB node (multicodec `dag-pb` = 0x70): `PBNode{Links=2; Data=1}`.
///
/// Implements ipld/specs `codecs/dag-pb/spec.md`. Canonical bytes carry every link (field 2)
/// before the data (field 1). Decoding is strict: only fields 1 and 2, links never after the
/// data, Data at most once, every link valid (see ``PBLink/init(parsing:)``).
public struct PBNode: Hashable, Sendable {
    /// The multicodec of DAG-PB blocks.
    public static let codec = Multicodec.dagPB
    /// The longest block accepted when parsing, in bytes.
    public static let maxBlockLength = 4 << 20

    /// The links, in the order they are encoded.
    public var links: [PBLink]
    /// The opaque payload (UnixFS puts its `Data` message here); `nil` omits the field.
    public var data: [UInt8]?

    /// Creates a node.
    public init(links: [PBLink] = [], data: [UInt8]? = nil) {
        self.links = links
        self.data = data
    }

    /// Parses a complete DAG-PB block (dag-pb spec, "Decoding").
    public init(parsing bytes: some Collection<UInt8>) throws {
        let parts = try Self.parts(parsing: bytes)
        self.init(links: parts.links, data: parts.data.map { Array($0) })
    }

    /// The links and the data section of a DAG-PB block, checked as strictly as
    /// ``init(parsing:)``, the data left in place as a slice of `bytes` (for an array, no
    /// copy): walking or exporting a DAG of 256 KiB leaves need not copy every leaf out.
    public static func parts(parsing bytes: some Collection<UInt8>) throws -> (links: [PBLink], data: ArraySlice<UInt8>?) {
        guard bytes.count <= Self.maxBlockLength else {
            throw IPLDError(.limitExceeded, "DAG-PB block of \(bytes.count) bytes exceeds \(Self.maxBlockLength)")
        }
        var reader = ProtobufReader(ArraySlice(bytes))
        var links: [PBLink] = []
        var data: ArraySlice<UInt8>?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readKey("PBNode")
            guard wireType == .lengthDelimited else {
                throw IPLDError(.malformedInput, "PBNode field \(field) must be length-delimited")
            }
            switch field {
            case 1:
                guard data == nil else { throw IPLDError(.nonCanonical, "PBNode has a duplicate Data section") }
                data = try reader.readLengthDelimited("PBNode.Data")
            case 2:
                guard data == nil else { throw IPLDError(.nonCanonical, "PBNode has Links after Data (duplicate Links section)") }
                links.append(try PBLink(parsing: reader.readLengthDelimited("PBNode.Links")))
            default:
                throw IPLDError(.malformedInput, "PBNode field \(field) is not allowed")
            }
        }
        return (links, data)
    }

    /// Appends the canonical encoding: links in order, then data.
    public func encode(into bytes: inout [UInt8]) {
        var linkBytes: [UInt8] = []
        for link in links {
            linkBytes.removeAll(keepingCapacity: true)
            link.encode(into: &linkBytes)
            ProtobufWriter.writeBytes(field: 2, linkBytes, into: &bytes)
        }
        if let data { ProtobufWriter.writeBytes(field: 1, data, into: &bytes) }
    }

    /// The canonical encoding.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The CID of this node's encoding: CIDv0 (`Qm…`) or CIDv1 dag-pb, sha2-256.
    public func cid(version: CID.Version = .v1) -> CID {
        Self.cid(of: bytes, version: version)
    }

    /// The dag-pb CID (sha2-256) of encoded node bytes.
    public static func cid(of bytes: some Sequence<UInt8>, version: CID.Version) -> CID {
        let multihash = Multihash.sha256(bytes)
        switch version {
        case .v0:
            // dag-pb + sha2-256 is always a valid v0 CID.
            guard let cid = try? CID(version: .v0, codec: .dagPB, multihash: multihash) else {
                fatalError("dag-pb sha2-256 must form a CIDv0")
            }
            return cid
        case .v1:
            return CID.v1(codec: .dagPB, multihash: multihash)
        }
    }

    /// The data-model form `{Links: [...], Data?: bytes}` (dag-pb spec, "Logical Format").
    public var dataModel: IPLDValue {
        var map: [String: IPLDValue] = ["Links": .list(links.map(\.dataModel))]
        if let data { map["Data"] = .bytes(data) }
        return .map(map)
    }

    /// Reads a node from its data-model form, refusing anything the spec does not allow:
    /// other keys, a missing Links list, non-bytes Data, bad links, and links not sorted by
    /// Name bytes (dag-pb spec, "Logical Format" and "Encoding").
    public init(dataModel value: IPLDValue) throws {
        guard case .map(let map) = value else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form")
        }
        guard Set(map.keys).isSubset(of: ["Data", "Links"]) else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (extraneous properties)")
        }
        var data: [UInt8]?
        if let dataValue = map["Data"] {
            guard case .bytes(let bytes) = dataValue else {
                throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (Data must be bytes)")
            }
            data = bytes
        }
        guard case .list(let linkValues) = map["Links"] else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (Links must be a list)")
        }
        let links = try linkValues.map(PBLink.init(dataModel:))
        for (previous, next) in zip(links, links.dropFirst()) {
            let previousName = Array((previous.name ?? "").utf8)
            let nextName = Array((next.name ?? "").utf8)
            guard !nextName.lexicographicallyPrecedes(previousName) else {
                throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (links must be sorted by Name bytes)")
            }
        }
        self.init(links: links, data: data)
    }
}
