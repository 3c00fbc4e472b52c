import IPLD
import Multiformats

/// Blocks that travel together (one CAR), looked up by CID, plus the walk that finds every
/// block reachable from a root.
///
/// ucanto ships a UCAN, its proofs and attached blocks, receipts and their effects in one CAR
/// (ucanto `core/src/dag.js`, `delegation.js exportDAG`); readers must not depend on block
/// order, so lookups go by CID.
public struct BlockGraph: Sendable, Hashable {
    /// The most blocks one graph may hold.
    public static let maxBlocks = 10_000

    /// Blocks by CID.
    public private(set) var blocks: [CID: IPLDBlock]

    /// An empty graph.
    public init() {
        blocks = [:]
    }

    /// A graph of `blocks`.
    public init(_ blocks: some Sequence<IPLDBlock>) throws {
        self.blocks = [:]
        for block in blocks { try insert(block) }
    }

    /// Adds a block (a duplicate is ignored).
    public mutating func insert(_ block: IPLDBlock) throws {
        guard blocks[block.cid] == nil else { return }
        guard blocks.count < Self.maxBlocks else {
            throw StorachaError(.limitExceeded, "more than \(Self.maxBlocks) blocks")
        }
        blocks[block.cid] = block
    }

    /// Adds every block of `other`.
    public mutating func merge(_ other: BlockGraph) throws {
        for block in other.blocks.values { try insert(block) }
    }

    /// The block for `cid`, if present.
    public subscript(cid: CID) -> IPLDBlock? { blocks[cid] }

    /// The decoded DAG-CBOR value of `cid`.
    public func value(_ cid: CID) throws -> IPLDValue {
        guard let block = blocks[cid] else {
            throw StorachaError(.notFound, "block \(cid) is not in the message")
        }
        guard cid.codec == .dagCBOR else {
            throw StorachaError(.malformedInput, "block \(cid) is not DAG-CBOR")
        }
        do {
            return try DAGCBOR.decode(block.bytes)
        } catch {
            throw StorachaError(.malformedInput, "block \(cid) does not decode", underlying: error)
        }
    }

    /// Every present block reachable from `root` through links in DAG-CBOR blocks, children
    /// before parents and `root` last (the order ucanto's `exportDAG` writes).
    public func reachable(from root: CID) -> [IPLDBlock] {
        var visited: Set<CID> = []
        var output: [IPLDBlock] = []
        visit(root, visited: &visited, output: &output)
        return output
    }

    private func visit(_ cid: CID, visited: inout Set<CID>, output: inout [IPLDBlock]) {
        guard !visited.contains(cid), let block = blocks[cid] else { return }
        visited.insert(cid)
        if cid.codec == .dagCBOR, let value = try? DAGCBOR.decode(block.bytes) {
            var links: [CID] = []
            Self.collectLinks(value, into: &links)
            for link in links { visit(link, visited: &visited, output: &output) }
        }
        output.append(block)
    }

    static func collectLinks(_ value: IPLDValue, into links: inout [CID]) {
        switch value {
        case .link(let cid): links.append(cid)
        case .list(let list): for item in list { collectLinks(item, into: &links) }
        case .map(let map):
            for key in map.keys.sorted() { collectLinks(map[key]!, into: &links) }
        default: break
        }
    }
}
