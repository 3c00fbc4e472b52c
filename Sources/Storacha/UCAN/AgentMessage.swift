import IPLD
import Multiformats

/// The unit of ucanto's HTTP transport: invocations to execute and/or receipts reporting on
/// them, in one CAR whose single root is the message block (ucanto `core/src/message.js`).
///
/// `{"ucanto/message@7.0.0": {execute?: [CID(invocation)], report?: {"<invocation CID>":
/// CID(receipt)}}}`; fields appear only when not empty.
public struct AgentMessage: Sendable {
    /// The message variant key.
    public static let variant = "ucanto/message@7.0.0"
    /// The most invocations or receipts accepted in one message.
    public static let maxEntries = 256

    /// The invocations to execute, in order.
    public var invocations: [Delegation]
    /// The receipts reported, keyed by the CID of the invocation they ran.
    public var receipts: [CID: Receipt]
    /// Blocks of the message as received (for lookups such as `ucan/conclude` receipts).
    public private(set) var graph: BlockGraph

    /// A message to send.
    public init(invocations: [Delegation] = [], receipts: [Receipt] = []) {
        self.invocations = invocations
        self.receipts = Dictionary(receipts.map { ($0.ran, $0) }, uniquingKeysWith: { first, _ in first })
        self.graph = BlockGraph()
    }

    /// Reads a message CAR.
    public init(car bytes: [UInt8]) throws {
        let (roots, graph) = try CARFile.read(bytes)
        guard roots.count == 1, let root = roots.first else {
            throw StorachaError(.malformedInput, "agent message CAR must have exactly one root, has \(roots.count)")
        }
        let value = try graph.value(root)
        guard let outer = value.mapValue, outer.count == 1, let body = outer[Self.variant]?.mapValue else {
            throw StorachaError(.unsupported, "root is not a \(Self.variant) message")
        }
        var invocations: [Delegation] = []
        if let execute = body["execute"] {
            guard let list = execute.listValue, list.count <= Self.maxEntries else {
                throw StorachaError(.malformedInput, "message execute must be a list of at most \(Self.maxEntries)")
            }
            for entry in list {
                guard let cid = entry.linkValue else { throw StorachaError(.malformedInput, "execute entry is not a link") }
                invocations.append(try Delegation(root: cid, graph: graph))
            }
        }
        var receipts: [CID: Receipt] = [:]
        if let report = body["report"] {
            guard let map = report.mapValue, map.count <= Self.maxEntries else {
                throw StorachaError(.malformedInput, "message report must be a map of at most \(Self.maxEntries)")
            }
            for (key, link) in map {
                guard let cid = link.linkValue else { throw StorachaError(.malformedInput, "report entry is not a link") }
                let receipt = try Receipt(root: cid, graph: graph)
                guard receipt.ran.description == key else {
                    throw StorachaError(.malformedInput, "report key \(key) does not match the receipt's ran \(receipt.ran)")
                }
                receipts[receipt.ran] = receipt
            }
        }
        self.invocations = invocations
        self.receipts = receipts
        self.graph = graph
    }

    /// The message block's data-model value.
    public var dataModel: IPLDValue {
        var body: [String: IPLDValue] = [:]
        if !invocations.isEmpty { body["execute"] = .list(invocations.map { .link($0.cid) }) }
        if !receipts.isEmpty {
            body["report"] = .map(Dictionary(uniqueKeysWithValues: receipts.map { ($0.key.description, .link($0.value.cid)) }))
        }
        return .map([Self.variant: .map(body)])
    }

    /// Encodes the message as a CAR: each invocation's blocks, each receipt's blocks, the
    /// message root last (ucanto `Message.iterateIPLDBlocks`).
    public func car() throws -> [UInt8] {
        let rootBlock = IPLDBlock(codec: .dagCBOR, bytes: try DAGCBOR.encode(dataModel))
        var seen: Set<CID> = []
        var blocks: [IPLDBlock] = []
        func add(_ list: [IPLDBlock]) {
            for block in list where seen.insert(block.cid).inserted { blocks.append(block) }
        }
        for invocation in invocations { add(invocation.exportedBlocks) }
        for key in receipts.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            add(receipts[key]!.exportedBlocks)
        }
        add([rootBlock])
        return CARWriter.encode(roots: [rootBlock.cid], blocks: blocks)
    }

    /// The receipt for `invocation`, from `report`, or else from a `ucan/conclude` invocation in
    /// this message whose `nb.receipt` ran it (upload-client `receipts.js`).
    public func receipt(for invocation: CID) -> Receipt? {
        if let receipt = receipts[invocation] { return receipt }
        for conclude in invocations where conclude.ucan.capabilities.first?.can == Ability.ucanConclude {
            guard let link = conclude.ucan.capabilities.first?.caveats["receipt"]?.linkValue,
                  let receipt = try? Receipt(root: link, graph: conclude.graph.merged(with: graph))
            else { continue }
            if receipt.ran == invocation { return receipt }
        }
        return nil
    }
}

extension BlockGraph {
    /// This graph with every block of `other` added.
    func merged(with other: BlockGraph) throws -> BlockGraph {
        var copy = self
        try copy.merge(other)
        return copy
    }
}
