import Multiformats

/// The header of a CAR v1 file: DAG-CBOR `{roots: [CID], version: 1}`.
///
/// Implements ipld/specs `transport/car/carv1` ("Header"). DAG-CBOR's length-first key order
/// puts `roots` before `version`. A CAR with no roots (`roots: []`) is accepted, as Storacha's
/// `empty.car` has none.
public struct CARHeader: Hashable, Sendable {
    /// The only CAR version this reads and writes.
    public static let version: UInt64 = 1
    /// The most roots accepted when parsing.
    public static let maxRoots = 1024

    /// The root CIDs.
    public var roots: [CID]

    /// Creates a header.
    public init(roots: [CID]) {
        self.roots = roots
    }

    /// Parses the DAG-CBOR header block (without its length prefix).
    ///
    /// - Throws: ``IPLDError`` for bad DAG-CBOR, a version other than 1, roots that are not
    ///   links, or other keys.
    public init(parsing bytes: some Collection<UInt8>) throws {
        let value = try DAGCBOR.decode(bytes)
        guard case .map(let map) = value else {
            throw IPLDError(.malformedInput, "CAR header is not a map")
        }
        guard map["version"] == .integer(IPLDInteger(Self.version)) else {
            throw IPLDError(.unsupportedValue, "CAR version \(map["version"].map { "\($0)" } ?? "missing"), expected 1")
        }
        guard Set(map.keys) == ["roots", "version"], case .list(let rootValues) = map["roots"] else {
            throw IPLDError(.malformedInput, "CAR v1 header must be exactly {roots: [CID], version: 1}")
        }
        guard rootValues.count <= Self.maxRoots else {
            throw IPLDError(.limitExceeded, "CAR header has \(rootValues.count) roots, more than \(Self.maxRoots)")
        }
        roots = try rootValues.map {
            guard case .link(let cid) = $0 else { throw IPLDError(.malformedInput, "CAR root is not a CID") }
            return cid
        }
    }

    /// The header's DAG-CBOR data-model value.
    public var dataModel: IPLDValue {
        .map(["roots": .list(roots.map(IPLDValue.link)), "version": .integer(IPLDInteger(Self.version))])
    }

    /// Appends the DAG-CBOR header block (without its length prefix).
    public func encode(into bytes: inout [UInt8]) {
        // Only links and a small integer: cannot fail.
        guard let _ = try? DAGCBOR.encode(dataModel, into: &bytes) else {
            fatalError("a CAR header always encodes")
        }
    }
}
