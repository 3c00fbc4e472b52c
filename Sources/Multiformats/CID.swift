/// A content identifier: a multihash plus the codec of the content it addresses.
///
/// Implements https://github.com/multiformats/cid. CIDv0 is a bare sha2-256 multihash of
/// dag-pb content, written in base58btc without a multibase prefix (`Qm…`). CIDv1 is
/// `varint(1) ‖ varint(codec) ‖ multihash`, written in any multibase (base32 by default).
///
/// Parsing text: `try CID(parsing: "bafy…")` throws a ``MultiformatsError``; the
/// `LosslessStringConvertible` initializer `CID("bafy…")` returns `nil` instead.
public struct CID: Hashable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    /// The CID version (cid spec, "Versions").
    public enum Version: Int, Sendable {
        /// Legacy: bare sha2-256 multihash, dag-pb only, base58btc text.
        case v0 = 0
        /// Current: version and codec prefix, any multihash and multibase.
        case v1 = 1
    }

    /// The CID version.
    public let version: Version
    /// The content type (a multicodec of tag `ipld`, or `libp2p-key` for peer IDs).
    public let codec: Multicodec
    /// The hash of the content.
    public let multihash: Multihash

    /// Creates a CID from its parts (cid spec).
    ///
    /// - Throws: ``MultiformatsError`` `.invalidCID` for a v0 CID that is not dag-pb with a
    ///   sha2-256 multihash.
    public init(version: Version, codec: Multicodec, multihash: Multihash) throws {
        if version == .v0 {
            guard codec == .dagPB, multihash.code == .sha2_256 else {
                throw MultiformatsError(.invalidCID, "CIDv0 must be dag-pb with sha2-256, got \(codec) with \(multihash.code)")
            }
        }
        self.version = version
        self.codec = codec
        self.multihash = multihash
    }

    /// A CIDv1 (cid spec); cannot fail.
    public static func v1(codec: Multicodec, multihash: Multihash) -> CID {
        CID(unchecked: .v1, codec: codec, multihash: multihash)
    }

    private init(unchecked version: Version, codec: Multicodec, multihash: Multihash) {
        self.version = version
        self.codec = codec
        self.multihash = multihash
    }

    /// Parses a CID from text (cid spec, "Decoding Algorithm").
    ///
    /// 46 characters starting with `Qm` are a CIDv0 in base58btc; anything else is multibase
    /// text of a binary CIDv1. Multibase text whose first byte is 0x12 (a v0 CID in
    /// multibase) is refused, as the spec requires.
    public init(parsing text: String) throws {
        if text.utf8.count == 46 && text.hasPrefix("Qm") {
            let bytes = try Base58.decode(text)
            self = try CID(bytes: bytes)
            return
        }
        let (_, bytes) = try Multibase.decode(text)
        guard bytes.first != 0x12 else {
            throw MultiformatsError(.invalidCID, "a CIDv0 may not be multibase-encoded")
        }
        self = try CID(bytes: bytes)
    }

    /// Parses a CID from text, returning `nil` on any error (see ``init(parsing:)``).
    public init?(_ description: String) {
        guard let cid = try? CID(parsing: description) else { return nil }
        self = cid
    }

    /// Parses a binary CID that makes up the whole of `bytes` (cid spec).
    public init(bytes: some Collection<UInt8>) throws {
        let (cid, length) = try Self.parsePrefix(bytes)
        guard length == bytes.count else {
            throw MultiformatsError(.trailingData, "\(bytes.count - length) bytes after the CID")
        }
        self = cid
    }

    /// Parses a binary CID at the start of `bytes`, which may continue past it (cid spec).
    ///
    /// A leading `0x12 0x20` is a CIDv0 (34 bytes); otherwise the first varint is the version,
    /// which must be 1.
    public static func parsePrefix(_ bytes: some Collection<UInt8>) throws -> (CID, length: Int) {
        var iterator = bytes.makeIterator()
        if iterator.next() == 0x12, iterator.next() == 0x20 {
            let (multihash, length) = try Multihash.parsePrefix(bytes)
            return (CID(unchecked: .v0, codec: .dagPB, multihash: multihash), length)
        }
        let (version, versionLength) = try Varint.decode(bytes)
        guard version == 1 else {
            throw MultiformatsError(.invalidCID, "unsupported CID version \(version)")
        }
        let rest = bytes.dropFirst(versionLength)
        let (codec, codecLength) = try Varint.decode(rest)
        let (multihash, multihashLength) = try Multihash.parsePrefix(rest.dropFirst(codecLength))
        let cid = CID(unchecked: .v1, codec: Multicodec(codec), multihash: multihash)
        return (cid, versionLength + codecLength + multihashLength)
    }

    /// The binary CID: the bare multihash for v0, `varint(1) ‖ varint(codec) ‖ multihash` for v1.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// Appends the binary CID to `bytes` (cid spec).
    public func encode(into bytes: inout [UInt8]) {
        if version == .v1 {
            Varint.encode(1, into: &bytes)
            Varint.encode(codec.rawValue, into: &bytes)
        }
        multihash.encode(into: &bytes)
    }

    /// The canonical text: base58btc without prefix for v0 (`Qm…`), base32 for v1 (`b…`).
    public var description: String {
        switch version {
        case .v0: Base58.encode(bytes)
        case .v1: Multibase.encode(bytes, as: .base32)
        }
    }

    /// The CID as multibase text in `base` (cid spec).
    ///
    /// A v0 CID has only one text form, so this returns ``description`` for v0 whatever `base` is.
    public func string(in base: Multibase) -> String {
        switch version {
        case .v0: description
        case .v1: Multibase.encode(bytes, as: base)
        }
    }

    /// This CID as v1 (a v0 CID becomes dag-pb v1 with the same multihash; cid spec).
    public func convertedToV1() -> CID {
        CID(unchecked: .v1, codec: codec, multihash: multihash)
    }
}
