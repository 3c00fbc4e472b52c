import IPLD
import Multiformats

/// Whole-CAR helpers over the `IPLD` module's reader and writer (ipld/specs carv1).
enum CARFile {
    /// The largest CAR read into memory, in bytes.
    static let maxLength = 256 << 20

    /// Reads every block of a CAR held in memory, each verified against its CID.
    static func read(_ bytes: [UInt8]) throws -> (roots: [CID], graph: BlockGraph) {
        guard bytes.count <= maxLength else {
            throw StorachaError(.limitExceeded, "CAR of \(bytes.count) bytes exceeds \(maxLength)")
        }
        do {
            var reader = try CARReader(bytes: bytes)
            let graph = try BlockGraph(try reader.readAll())
            return (reader.header.roots, graph)
        } catch let error as StorachaError {
            throw error
        } catch {
            throw StorachaError(.malformedInput, "not a valid CAR", underlying: error)
        }
    }
}
