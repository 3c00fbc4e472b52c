import Multiformats

/// A DAG-PB link: `PBLink{Hash=1, Name=2, Tsize=3}`.
///
/// Implements ipld/specs `codecs/dag-pb/spec.md` ("Serial Format", "Logical Format"). `name` is
/// optional: `nil` omits the field, `""` writes an empty one (`12 00`), which go-merkledag
/// always does and which Kubo-identical UnixFS nodes therefore need.
public struct PBLink: Hashable, Sendable {
    /// The target's CID (field 1, required).
    public var hash: CID
    /// The link name (field 2), UTF-8.
    public var name: String?
    /// The cumulative size of the target: its block plus everything below it (field 3).
    public var tsize: UInt64?

    /// Creates a link.
    public init(hash: CID, name: String? = nil, tsize: UInt64? = nil) {
        self.hash = hash
        self.name = name
        self.tsize = tsize
    }

    /// Parses an encoded `PBLink` strictly: fields in order Hash, Name, Tsize, each at most once,
    /// Hash present and a valid CID (dag-pb spec, "Decoding").
    public init(parsing bytes: ArraySlice<UInt8>) throws {
        var reader = ProtobufReader(bytes)
        var hash: CID?
        var name: String?
        var tsize: UInt64?
        var lastField: UInt64 = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.readKey("PBLink")
            guard field > lastField else {
                throw IPLDError(.nonCanonical, "PBLink field \(field) repeated or out of order")
            }
            lastField = field
            switch (field, wireType) {
            case (1, .lengthDelimited):
                let cidBytes = try reader.readLengthDelimited("PBLink.Hash")
                do {
                    hash = try CID(bytes: cidBytes)
                } catch {
                    throw IPLDError(.malformedInput, "PBLink Hash is not a CID", underlying: error)
                }
            case (2, .lengthDelimited):
                let nameBytes = try reader.readLengthDelimited("PBLink.Name")
                guard let text = String(validating: nameBytes, as: UTF8.self) else {
                    throw IPLDError(.malformedInput, "PBLink Name is not valid UTF-8")
                }
                name = text
            case (3, .varint):
                tsize = try reader.readVarint("PBLink.Tsize")
            default:
                throw IPLDError(.malformedInput, "PBLink field \(field) with wire type \(wireType) is not allowed")
            }
        }
        guard let hash else { throw IPLDError(.malformedInput, "PBLink has no Hash") }
        self.init(hash: hash, name: name, tsize: tsize)
    }

    /// Appends the canonical encoding (Hash, Name, Tsize; absent fields omitted).
    public func encode(into bytes: inout [UInt8]) {
        ProtobufWriter.writeBytes(field: 1, hash.bytes, into: &bytes)
        if let name { ProtobufWriter.writeBytes(field: 2, Array(name.utf8), into: &bytes) }
        if let tsize { ProtobufWriter.writeUInt(field: 3, tsize, into: &bytes) }
    }

    /// The data-model form `{Hash, Name?, Tsize?}` (dag-pb spec, "Logical Format").
    public var dataModel: IPLDValue {
        var map: [String: IPLDValue] = ["Hash": .link(hash)]
        if let name { map["Name"] = .string(name) }
        if let tsize { map["Tsize"] = .integer(IPLDInteger(tsize)) }
        return .map(map)
    }

    /// Reads a link from its data-model form, refusing anything the spec's schema does not allow.
    public init(dataModel value: IPLDValue) throws {
        guard case .map(let map) = value else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (bad link)")
        }
        guard Set(map.keys).isSubset(of: ["Hash", "Name", "Tsize"]) else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (extraneous properties on link)")
        }
        guard let hashValue = map["Hash"] else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (link must have a Hash)")
        }
        guard case .link(let hash) = hashValue else {
            throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (link Hash must be a CID)")
        }
        var name: String?
        if let nameValue = map["Name"] {
            guard case .string(let text) = nameValue else {
                throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (link Name must be a string)")
            }
            name = text
        }
        var tsize: UInt64?
        if let tsizeValue = map["Tsize"] {
            guard case .integer(let integer) = tsizeValue else {
                throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (link Tsize must be an integer)")
            }
            guard let value = integer.uint64Value else {
                throw IPLDError(.unsupportedValue, "Invalid DAG-PB form (link Tsize cannot be negative)")
            }
            tsize = value
        }
        self.init(hash: hash, name: name, tsize: tsize)
    }
}
