import IPLD
import Multiformats

/// A UCAN together with the blocks that travel with it: its proofs (recursively) and any
/// attached blocks (ucanto `core/src/delegation.js`). Invocations are delegations too: the same
/// block shape, addressed to the service.
///
/// Archives (ucanto `delegation.js archive/extract`): a CAR whose root is
/// `{"ucan@0.9.1": CID(ucan)}` plus every block of the chain. The Storacha CLI prints an archive
/// as `m` + base64(CIDv1(`car` 0x0202, identity-multihash(archive))) (upload-service
/// `packages/cli/index.js`, `delegation create --base64`). `access/claim` returns CARs whose
/// root is the UCAN itself; ``init(archive:)`` accepts both.
public struct Delegation: Hashable, Sendable, CustomStringConvertible {
    /// The key of the archive root's variant (ucanto `ARCHIVE_VERSION`).
    public static let archiveVariant = "ucan@0.9.1"
    /// The longest archive accepted, in bytes.
    public static let maxArchiveLength = 4 << 20
    /// The deepest proof chain followed.
    public static let maxProofDepth = 32

    /// The UCAN.
    public let ucan: UCAN
    /// The UCAN's block.
    public let root: IPLDBlock
    /// Blocks that travel with it (proofs, attached blocks), including ``root``.
    public let graph: BlockGraph

    /// The UCAN's CID.
    public var cid: CID { root.cid }

    /// Views the UCAN at `root` in `graph`.
    public init(root cid: CID, graph: BlockGraph) throws {
        guard let block = graph[cid] else {
            throw StorachaError(.notFound, "UCAN block \(cid) is not present")
        }
        guard cid.codec == .dagCBOR else {
            throw StorachaError(.malformedInput, "UCAN \(cid) is not DAG-CBOR")
        }
        ucan = try UCAN(parsing: block.bytes)
        root = block
        self.graph = graph
    }

    /// Wraps a signed UCAN with its proofs and attached blocks.
    public init(ucan: UCAN, proofs: [Delegation] = [], attached: [IPLDBlock] = []) throws {
        let block = try ucan.block()
        var graph = BlockGraph()
        for proof in proofs { try graph.merge(proof.graph) }
        for extra in attached { try graph.insert(extra) }
        try graph.insert(block)
        self.ucan = ucan
        self.root = block
        self.graph = graph
    }

    /// Issues a delegation (or invocation) signed by `issuer`; `proofs` are linked in `prf` and
    /// their blocks travel along (ucanto `delegate`/`invoke`).
    public static func issue(
        issuer: Signer, audience: DID, capabilities: [Capability], expiration: Int64?,
        notBefore: Int64? = nil, nonce: String? = nil, facts: [IPLDValue] = [],
        proofs: [Delegation] = [], attached: [IPLDBlock] = []
    ) throws -> Delegation {
        let ucan = try UCAN.issue(
            issuer: issuer, audience: audience, capabilities: capabilities, expiration: expiration,
            notBefore: notBefore, nonce: nonce, facts: facts, proofs: proofs.map(\.cid)
        )
        return try Delegation(ucan: ucan, proofs: proofs, attached: attached)
    }

    /// The proofs whose blocks are present, in `prf` order; absent ones are skipped.
    public var proofs: [Delegation] {
        ucan.proofs.compactMap { graph[$0] == nil ? nil : try? Delegation(root: $0, graph: graph) }
    }

    /// The blocks to ship, children before parents, the UCAN last (ucanto `exportDAG`).
    public var exportedBlocks: [IPLDBlock] {
        graph.reachable(from: cid).filter { $0.cid != cid } + attachedOrphans + [root]
    }

    /// Attached blocks that no link reaches (still shipped, as ucanto's `attach` does).
    private var attachedOrphans: [IPLDBlock] {
        let reached = Set(graph.reachable(from: cid).map(\.cid))
        return graph.blocks.values.filter { !reached.contains($0.cid) }.sorted { $0.cid.bytes.lexicographicallyPrecedes($1.cid.bytes) }
    }

    // MARK: Archives

    /// The archive CAR: root `{"ucan@0.9.1": CID}`, then every block of the chain.
    public func archive() throws -> [UInt8] {
        let variant = try DAGCBOR.block(.map([Self.archiveVariant: .link(cid)]))
        let variantBlock = try IPLDBlock(cid: variant.cid, bytes: variant.bytes)
        return CARWriter.encode(roots: [variant.cid], blocks: exportedBlocks + [variantBlock])
    }

    /// Reads an archive CAR (root `{"ucan@0.9.1": CID}`) or an `access/claim` CAR (root = UCAN).
    public init(archive bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxArchiveLength else {
            throw StorachaError(.limitExceeded, "delegation archive of \(bytes.count) bytes exceeds \(Self.maxArchiveLength)")
        }
        let (roots, graph) = try CARFile.read(bytes)
        guard roots.count == 1, let root = roots.first else {
            throw StorachaError(.malformedInput, "delegation archive must have exactly one root, has \(roots.count)")
        }
        let value = try graph.value(root)
        if let variant = value.mapValue, variant.count == 1, let (key, link) = variant.first, key.hasPrefix("ucan@") {
            guard key == Self.archiveVariant, let ucanCID = link.linkValue else {
                throw StorachaError(.unsupported, "delegation archive variant \(key) (expected \(Self.archiveVariant))")
            }
            try self.init(root: ucanCID, graph: graph)
        } else {
            try self.init(root: root, graph: graph)
        }
    }

    /// Parses the text form the Storacha CLI prints (`m` + base64 of an identity CID of the
    /// archive), or any multibase of a bare archive CAR.
    public init(parsing text: String) throws {
        guard text.utf8.count <= Self.maxArchiveLength * 2 else {
            throw StorachaError(.limitExceeded, "delegation text exceeds \(Self.maxArchiveLength * 2) characters")
        }
        let bytes: [UInt8]
        do {
            bytes = try Multibase.decode(text.trimmingWhitespace()).bytes
        } catch {
            throw StorachaError(.malformedInput, "delegation text is not multibase", underlying: error)
        }
        try self.init(archive: try Self.unwrapIdentityCID(bytes) ?? bytes)
    }

    /// The CLI text form: `m` + base64(CIDv1(car, identity(archive))).
    public func formatted() throws -> String {
        let car = try archive()
        var bytes = Varint.encode(1) + Multicodec.car.varintBytes + Multicodec.identity.varintBytes
        bytes += Varint.encode(UInt64(car.count)) + car
        return Multibase.encode(bytes, as: .base64)
    }

    /// The archive inside `01 ‖ 0x0202 ‖ identity ‖ len ‖ car`, or `nil` if `bytes` are not an
    /// identity CID. (Parsed by hand: the Multiformats module caps multihash digests at 128
    /// bytes, and an inline archive is longer.)
    static func unwrapIdentityCID(_ bytes: [UInt8]) throws -> [UInt8]? {
        guard let (version, a) = try? Varint.decode(bytes), version == 1,
              let (codec, b) = try? Varint.decode(bytes.dropFirst(a)), codec == Multicodec.car.rawValue
        else { return nil }
        let rest = bytes.dropFirst(a + b)
        guard let (hash, c) = try? Varint.decode(rest), hash == Multicodec.identity.rawValue,
              let (length, d) = try? Varint.decode(rest.dropFirst(c))
        else {
            throw StorachaError(.unsupported, "delegation CID must use the identity multihash")
        }
        let payload = rest.dropFirst(c + d)
        guard UInt64(payload.count) == length else {
            throw StorachaError(.malformedInput, "identity CID length \(length) does not match \(payload.count) bytes")
        }
        return Array(payload)
    }

    public var description: String {
        "Delegation(\(cid): \(ucan.issuer) → \(ucan.audience), \(ucan.capabilities.map(\.description).joined(separator: ", ")))"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
