import IPLD
import Multiformats

/// The links out of one block, by its codec: DAG-PB `Links[].Hash`, every tag-42 CID in a
/// DAG-CBOR value, none for raw blocks (ipld/specs `codecs/dag-pb/spec.md`,
/// `codecs/dag-cbor/spec.md`). Used to walk DAGs for garbage collection and fetching.
public enum BlockLinks {
    /// The CIDs `bytes` (a block of `cid`) links to, in encoding order.
    ///
    /// - Throws: ``IPFSError`` `.malformedInput` if the block does not parse in its codec;
    ///   `.unsupportedCID` for codecs other than raw, dag-pb and dag-cbor.
    public static func links(of cid: CID, bytes: [UInt8]) throws -> [CID] {
        do {
            switch cid.codec {
            case .raw:
                return []
            case .dagPB:
                return try PBNode.parts(parsing: bytes).links.map(\.hash)
            case .dagCBOR:
                var found: [CID] = []
                collect(try DAGCBOR.decode(bytes), into: &found)
                return found
            default:
                throw IPFSError(.unsupportedCID, "cannot read links of codec \(cid.codec)")
            }
        } catch let error as IPFSError {
            throw error
        } catch {
            throw IPFSError(.malformedInput, "block \(cid) does not parse as \(cid.codec)", underlying: error)
        }
    }

    private static func collect(_ value: IPLDValue, into found: inout [CID]) {
        switch value {
        case .link(let cid): found.append(cid)
        case .list(let items): for item in items { collect(item, into: &found) }
        case .map(let map): for key in map.keys.sorted() { collect(map[key]!, into: &found) }
        default: break
        }
    }
}
