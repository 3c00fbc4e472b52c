import IPLD

/// One entry of a UCAN's `att`: an ability (`can`) on a resource (`with`) with caveats (`nb`).
///
/// Implements ucan 0.9.1 §3.2.5 as ucanto shapes it (dag-ucan `ucan.ts` `Capability`): an
/// empty `nb` is left out (ucanto `validator/src/capability.js createCapability`). Fields other
/// than `can`, `with` and `nb` are kept so that a parsed block re-encodes byte for byte.
public struct Capability: Hashable, Sendable, CustomStringConvertible {
    /// The longest ability or resource accepted, in UTF-8 bytes.
    public static let maxFieldLength = 4096

    /// The ability, e.g. `space/blob/add`, `space/*` or `*`.
    public var can: String
    /// The resource, usually a space did:key.
    public var with: String
    /// The caveats; `nil` when the field is absent.
    public var nb: [String: IPLDValue]?
    /// Fields ucanto does not define, kept as they were.
    public var extra: [String: IPLDValue]

    /// Creates a capability; an empty `nb` is left out when encoded.
    public init(can: String, with: String, nb: [String: IPLDValue] = [:]) {
        self.can = can
        self.with = with
        self.nb = nb.isEmpty ? nil : nb
        self.extra = [:]
    }

    /// Parses an `att` entry.
    public init(parsing value: IPLDValue) throws {
        guard var map = value.mapValue,
              let can = map.removeValue(forKey: "can")?.stringValue,
              let with = map.removeValue(forKey: "with")?.stringValue
        else {
            throw StorachaError(.malformedInput, "capability must be a map with string can and with")
        }
        guard can.utf8.count <= Self.maxFieldLength, with.utf8.count <= Self.maxFieldLength else {
            throw StorachaError(.limitExceeded, "capability field exceeds \(Self.maxFieldLength) bytes")
        }
        self.can = can
        self.with = with
        if let nb = map.removeValue(forKey: "nb") {
            guard let nbMap = nb.mapValue else { throw StorachaError(.malformedInput, "capability nb must be a map") }
            self.nb = nbMap
        } else {
            self.nb = nil
        }
        self.extra = map
    }

    /// The caveats, empty if absent.
    public var caveats: [String: IPLDValue] { nb ?? [:] }

    /// The data-model value (`{can, with, nb?}`).
    public var dataModel: IPLDValue {
        var map = extra
        map["can"] = .string(can)
        map["with"] = .string(with)
        if let nb { map["nb"] = .map(nb) }
        return .map(map)
    }

    public var description: String { "\(can) on \(with)" }
}
