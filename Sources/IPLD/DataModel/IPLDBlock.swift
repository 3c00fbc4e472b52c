import Multiformats

/// A block: bytes and the CID that addresses them.
///
/// The unit every IPLD transport moves (CAR sections, Bitswap, blockstores). ``init(cid:bytes:)``
/// checks the bytes against the CID's multihash, so a value of this type is always verified.
public struct IPLDBlock: Hashable, Sendable {
    /// The block's CID.
    public let cid: CID
    /// The block's bytes.
    public let bytes: [UInt8]

    /// Creates a block after checking that `bytes` hash to `cid`.
    ///
    /// - Throws: ``IPLDError`` `.hashMismatch` if they do not, `.unsupportedCID` for a hash
    ///   function this module cannot compute (sha2-256, sha2-512 and identity are supported).
    public init(cid: CID, bytes: [UInt8]) throws {
        guard [.sha2_256, .sha2_512, .identity].contains(cid.multihash.code) else {
            throw IPLDError(.unsupportedCID, "cannot verify hash function \(cid.multihash.code) of \(cid)")
        }
        guard cid.multihash.matches(bytes) else {
            throw IPLDError(.hashMismatch, "block bytes do not hash to \(cid)")
        }
        self.cid = cid
        self.bytes = bytes
    }

    /// Creates a block whose CID is computed here (sha2-256, CIDv1 with `codec`).
    public init(codec: Multicodec, bytes: [UInt8]) {
        self.cid = CID.v1(codec: codec, multihash: Multihash.sha256(bytes))
        self.bytes = bytes
    }
}
