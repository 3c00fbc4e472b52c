import IPLD
import Multiformats

/// The signed result of running an invocation (ucanto `core/src/receipt.js`).
///
/// Block shape: `{ocm: {ran: CID, out: {ok: …}|{error: …}, fx: {fork: [CID], join?: CID},
/// meta: {}, iss?: "did:…", prf: [CID]}, sig: varsig}`; `sig` signs DAG-CBOR(`ocm`)
/// (ucanto `receipt.js ReceptBuilder.buildIPLDView`). The invocation that ran, the effect
/// tasks and proofs travel in the same CAR when the issuer has them.
public struct Receipt: Hashable, Sendable {
    /// A receipt's `out`.
    public enum Outcome: Hashable, Sendable {
        /// `{ok: value}`.
        case ok(IPLDValue)
        /// `{error: value}`; ucanto errors are maps with `name` and `message`.
        case error(IPLDValue)

        /// A ucanto-style failure `{name, message}` plus extra fields.
        public static func failure(name: String, message: String, extra: [String: IPLDValue] = [:]) -> Outcome {
            var map = extra
            map["name"] = .string(name)
            map["message"] = .string(message)
            return .error(.map(map))
        }

        var dataModel: IPLDValue {
            switch self {
            case .ok(let value): .map(["ok": value])
            case .error(let value): .map(["error": value])
            }
        }
    }

    /// `ran`: the invocation (task) this receipt is for.
    public var ran: CID
    /// `out`: the result.
    public var out: Outcome
    /// `fx.fork`: tasks started as effects.
    public var fork: [CID]
    /// `fx.join`: the task that continues this one, if any.
    public var join: CID?
    /// `meta`.
    public var meta: [String: IPLDValue]
    /// `iss`: who issued it (`nil` when absent: then the invocation's audience did).
    public var issuer: DID?
    /// `prf`: delegations proving the issuer may issue it.
    public var proofs: [CID]
    /// `sig`.
    public var signature: UCANSignature
    /// The receipt's block.
    public let root: IPLDBlock
    /// Blocks that travel with it (invocation, effects, proofs), including ``root``.
    public let graph: BlockGraph

    /// The receipt's CID.
    public var cid: CID { root.cid }

    /// Views the receipt at `cid` in `graph`.
    public init(root cid: CID, graph: BlockGraph) throws {
        guard let block = graph[cid] else { throw StorachaError(.notFound, "receipt block \(cid) is not present") }
        let value = try graph.value(cid)
        guard let map = value.mapValue, Set(map.keys) == ["ocm", "sig"], let ocm = map["ocm"]?.mapValue,
              let sig = map["sig"]?.bytesValue
        else {
            throw StorachaError(.malformedInput, "receipt must be {ocm, sig}")
        }
        guard let ran = ocm["ran"]?.linkValue else { throw StorachaError(.malformedInput, "receipt ran is not a link") }
        self.ran = ran
        guard let out = ocm["out"]?.mapValue, out.count == 1 else {
            throw StorachaError(.malformedInput, "receipt out must be {ok} or {error}")
        }
        if let ok = out["ok"] {
            self.out = .ok(ok)
        } else if let error = out["error"] {
            self.out = .error(error)
        } else {
            throw StorachaError(.malformedInput, "receipt out must be {ok} or {error}")
        }
        guard let fx = ocm["fx"]?.mapValue, let fork = fx["fork"]?.listValue, fork.count <= UCAN.maxListLength else {
            throw StorachaError(.malformedInput, "receipt fx must have a fork list")
        }
        self.fork = try fork.map {
            guard let link = $0.linkValue else { throw StorachaError(.malformedInput, "receipt fork entry is not a link") }
            return link
        }
        switch fx["join"] {
        case nil: join = nil
        case .link(let link)?: join = link
        default: throw StorachaError(.malformedInput, "receipt fx.join is not a link")
        }
        guard let meta = ocm["meta"]?.mapValue else { throw StorachaError(.malformedInput, "receipt meta must be a map") }
        self.meta = meta
        switch ocm["iss"] {
        case nil: issuer = nil
        case .string(let text)?: issuer = try DID(parsing: text)
        default: throw StorachaError(.malformedInput, "receipt iss must be a DID string")
        }
        guard let prf = ocm["prf"]?.listValue, prf.count <= UCAN.maxListLength else {
            throw StorachaError(.malformedInput, "receipt prf must be a list")
        }
        proofs = try prf.map {
            guard let link = $0.linkValue else { throw StorachaError(.malformedInput, "receipt proof is not a link") }
            return link
        }
        signature = try UCANSignature(parsing: sig)
        root = block
        self.graph = graph
    }

    /// Issues a receipt signed by `issuer` (ucanto `Receipt.issue`); the blocks of `ran` (when
    /// given as a delegation), of the effects and of the proofs travel along.
    public static func issue(
        issuer: Signer, ran: CID, invocation: Delegation? = nil, result: Outcome,
        fork: [Delegation] = [], join: Delegation? = nil, meta: [String: IPLDValue] = [:],
        proofs: [Delegation] = [], attached: [IPLDBlock] = []
    ) throws -> Receipt {
        var graph = BlockGraph()
        if let invocation { try graph.merge(invocation.graph) }
        for task in fork { try graph.merge(task.graph) }
        if let join { try graph.merge(join.graph) }
        for proof in proofs { try graph.merge(proof.graph) }
        for block in attached { try graph.insert(block) }
        let ocm = outcomeModel(
            ran: ran, out: result, fork: fork.map(\.cid), join: join?.cid, meta: meta,
            issuer: issuer.did, proofs: proofs.map(\.cid)
        )
        let signature = try issuer.sign(try encode(ocm))
        let block = IPLDBlock(codec: .dagCBOR, bytes: try encode(.map(["ocm": ocm, "sig": .bytes(signature.bytes)])))
        try graph.insert(block)
        return try Receipt(root: block.cid, graph: graph)
    }

    private static func encode(_ value: IPLDValue) throws -> [UInt8] {
        do {
            return try DAGCBOR.encode(value)
        } catch {
            throw StorachaError(.malformedInput, "receipt does not encode as DAG-CBOR", underlying: error)
        }
    }

    static func outcomeModel(
        ran: CID, out: Outcome, fork: [CID], join: CID?, meta: [String: IPLDValue], issuer: DID?, proofs: [CID]
    ) -> IPLDValue {
        var fx: [String: IPLDValue] = ["fork": .list(fork.map(IPLDValue.link))]
        if let join { fx["join"] = .link(join) }
        var ocm: [String: IPLDValue] = [
            "ran": .link(ran), "out": out.dataModel, "fx": .map(fx), "meta": .map(meta),
            "prf": .list(proofs.map(IPLDValue.link)),
        ]
        if let issuer { ocm["iss"] = .string(issuer.string) }
        return .map(ocm)
    }

    /// The signed `ocm` value.
    public var outcomeModel: IPLDValue {
        Self.outcomeModel(ran: ran, out: out, fork: fork, join: join, meta: meta, issuer: issuer, proofs: proofs)
    }

    /// Whether `sig` verifies over DAG-CBOR(`ocm`) with `key` (the issuer's did:key, or the key
    /// its did:web publishes).
    public func verifySignature(key: DID) -> Bool {
        guard let bytes = try? DAGCBOR.encode(outcomeModel) else { return false }
        return key.verify(signature: signature.raw, for: bytes)
    }

    /// The `ok` value, or `nil` for an error receipt.
    public var okValue: IPLDValue? {
        if case .ok(let value) = out { return value }
        return nil
    }

    /// The error `name` of an error receipt.
    public var errorName: String? {
        if case .error(let value) = out { return value["name"]?.stringValue ?? "Error" }
        return nil
    }

    /// The `ok` value, or a ``StorachaError`` `.errorReceipt` carrying the service's error.
    public func requireOK(_ context: String) throws -> IPLDValue {
        switch out {
        case .ok(let value): return value
        case .error(let value):
            let name = value["name"]?.stringValue ?? "Error"
            let message = value["message"]?.stringValue ?? "no message"
            throw StorachaError(.errorReceipt, "\(context) failed: \(message)", remoteName: name)
        }
    }

    /// The invocation this ran, if its blocks are present.
    public var invocation: Delegation? {
        graph[ran] == nil ? nil : try? Delegation(root: ran, graph: graph)
    }

    /// The forked tasks whose blocks are present.
    public var forkedTasks: [Delegation] {
        fork.compactMap { graph[$0] == nil ? nil : try? Delegation(root: $0, graph: graph) }
    }

    /// The blocks to ship, children before parents, the receipt last.
    public var exportedBlocks: [IPLDBlock] {
        graph.reachable(from: cid)
    }
}
