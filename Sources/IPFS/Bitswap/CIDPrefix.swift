import Crypto
import Multiformats

/// The CID prefix sent with every Bitswap 1.1.0+ block: `uvarint version ‖ uvarint codec ‖
/// uvarint multihash type ‖ uvarint multihash length` (ipfs/specs `bitswap-protocol.md`,
/// "Block"; libp2p.md §6). The receiver hashes the data to rebuild the CID, so a block can
/// never arrive under a CID that its bytes do not hash to.
///
/// An empty prefix makes go reject the whole message (libp2p.md §0 item 9), so we always send
/// one: CIDv0 is `00 70 12 20`, raw CIDv1 `01 55 12 20`.
public struct CIDPrefix: Hashable, Sendable {
    /// The CID version.
    public var version: CID.Version
    /// The content codec.
    public var codec: Multicodec
    /// The multihash function.
    public var hashFunction: Multicodec
    /// The digest length in bytes.
    public var digestLength: Int

    /// The prefix of `cid`.
    public init(cid: CID) {
        version = cid.version
        codec = cid.codec
        hashFunction = cid.multihash.code
        digestLength = cid.multihash.digest.count
    }

    /// Parses a prefix that makes up the whole of `bytes`.
    public init(parsing bytes: [UInt8]) throws {
        var offset = 0
        func next(_ what: String) throws -> UInt64 {
            do {
                let (value, length) = try Varint.decode(bytes[offset...])
                offset += length
                return value
            } catch {
                throw IPFSError(.malformedInput, "CID prefix: bad \(what)", underlying: error)
            }
        }
        let versionNumber = try next("version")
        let codec = Multicodec(try next("codec"))
        let hashFunction = Multicodec(try next("multihash type"))
        let digestLength = try next("multihash length")
        guard offset == bytes.count else {
            throw IPFSError(.malformedInput, "CID prefix: \(bytes.count - offset) trailing bytes")
        }
        guard let version = CID.Version(rawValue: Int(clamping: versionNumber)) else {
            throw IPFSError(.unsupportedCID, "CID prefix: version \(versionNumber)")
        }
        guard digestLength <= UInt64(Multihash.maxDigestLength) else {
            throw IPFSError(.malformedInput, "CID prefix: digest length \(digestLength)")
        }
        if version == .v0 {
            guard codec == .dagPB, hashFunction == .sha2_256, digestLength == 32 else {
                throw IPFSError(.malformedInput, "CID prefix: v0 must be dag-pb sha2-256/32")
            }
        }
        self.version = version
        self.codec = codec
        self.hashFunction = hashFunction
        self.digestLength = Int(digestLength)
    }

    /// Appends the encoded prefix.
    public func encode(into bytes: inout [UInt8]) {
        Varint.encode(UInt64(version.rawValue), into: &bytes)
        Varint.encode(codec.rawValue, into: &bytes)
        Varint.encode(hashFunction.rawValue, into: &bytes)
        Varint.encode(UInt64(digestLength), into: &bytes)
    }

    /// The encoded prefix.
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// The CID of `data` under this prefix: hashes the data (sha2-256 or sha2-512, full length).
    ///
    /// - Throws: ``IPFSError`` `.unsupportedCID` for other hash functions or truncated digests.
    public func cid(for data: [UInt8]) throws -> CID {
        let digest: [UInt8]
        switch hashFunction {
        case .sha2_256: digest = Array(SHA256.hash(data: data))
        case .sha2_512: digest = Array(SHA512.hash(data: data))
        default: throw IPFSError(.unsupportedCID, "CID prefix: hash function \(hashFunction) is not supported")
        }
        guard digest.count == digestLength else {
            throw IPFSError(.unsupportedCID, "CID prefix: digest length \(digestLength) for \(hashFunction)")
        }
        do {
            return try CID(version: version, codec: codec, multihash: Multihash(code: hashFunction, digest: digest))
        } catch {
            throw IPFSError(.malformedInput, "CID prefix does not form a CID", underlying: error)
        }
    }
}
