import Multiformats

/// Writes a CAR v1 stream: the header at creation, then one section per block.
///
/// Implements ipld/specs `transport/car/carv1`: `varint(len) ‖ DAG-CBOR header`, then
/// `varint(len) ‖ CID ‖ block` per block, in the order they are written.
public struct CARWriter {
    private let sink: ([UInt8]) throws -> Void

    /// Writes the header for `roots` to `sink` and returns a writer for the blocks.
    public init(roots: [CID], sink: @escaping ([UInt8]) throws -> Void) throws {
        self.sink = sink
        var header: [UInt8] = []
        CARHeader(roots: roots).encode(into: &header)
        var bytes = Varint.encode(UInt64(header.count))
        bytes += header
        try sink(bytes)
    }

    /// Writes one section.
    public func write(_ block: IPLDBlock) throws {
        try write(cid: block.cid, bytes: block.bytes)
    }

    /// Writes one section from a CID and bytes (not re-verified: the caller produced them).
    public func write(cid: CID, bytes: [UInt8]) throws {
        let cidBytes = cid.bytes
        var section = Varint.encode(UInt64(cidBytes.count + bytes.count))
        section.reserveCapacity(section.count + cidBytes.count + bytes.count)
        section += cidBytes
        section += bytes
        try sink(section)
    }

    /// A whole CAR in memory.
    public static func encode(roots: [CID], blocks: [IPLDBlock]) -> [UInt8] {
        var output: [UInt8] = []
        // The sink never throws, so neither does the writer.
        guard let writer = try? CARWriter(roots: roots, sink: { output += $0 }) else { return output }
        for block in blocks { try? writer.write(block) }
        return output
    }
}
