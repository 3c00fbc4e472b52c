import Multiformats

/// Reads a CAR v1 stream section by section, verifying every block against its CID.
///
/// Implements ipld/specs `transport/car/carv1` ("Format Description"): `varint(len) ‖ header`,
/// then sections `varint(len) ‖ CID ‖ block`. Every length is checked against
/// ``maxHeaderLength`` or ``maxSectionLength`` before anything is allocated; a stream that ends
/// inside a section is refused; every block must hash to its CID.
public struct CARReader {
    /// The longest header accepted, in bytes.
    public static let maxHeaderLength = 1 << 20
    /// The longest section (CID plus block) accepted, in bytes: a 4 MiB block plus its CID.
    public static let maxSectionLength = (4 << 20) + 1024
    /// How much is asked of the source at once.
    static let readSize = 64 * 1024

    /// The parsed header.
    public let header: CARHeader

    private var source: BufferedSource

    /// Starts reading from `read`, which returns up to the requested number of bytes and an
    /// empty array at end of stream; the header is read and checked here.
    public init(read: @escaping (_ maxCount: Int) throws -> [UInt8]) throws {
        var source = BufferedSource(read: read)
        guard let length = try source.readVarint(atBoundary: false) else {
            throw IPLDError(.truncated, "CAR stream is empty")
        }
        guard length > 0, length <= UInt64(Self.maxHeaderLength) else {
            throw IPLDError(.limitExceeded, "CAR header length \(length) outside 1…\(Self.maxHeaderLength)")
        }
        header = try CARHeader(parsing: source.readExactly(Int(length)))
        self.source = source
    }

    /// Starts reading a CAR held in memory.
    public init(bytes: [UInt8]) throws {
        var offset = 0
        try self.init(read: { maxCount in
            let end = min(bytes.count, offset + maxCount)
            defer { offset = end }
            return Array(bytes[offset..<end])
        })
    }

    /// The next block, verified, or `nil` at the end of the stream.
    ///
    /// - Throws: ``IPLDError`` `.truncated`, `.limitExceeded`, `.malformedInput` (bad CID),
    ///   `.hashMismatch`, `.unsupportedCID`.
    public mutating func next() throws -> IPLDBlock? {
        guard let length = try source.readVarint(atBoundary: true) else { return nil }
        guard length > 0, length <= UInt64(Self.maxSectionLength) else {
            throw IPLDError(.limitExceeded, "CAR section length \(length) outside 1…\(Self.maxSectionLength)")
        }
        let section = try source.readExactly(Int(length))
        let cid: CID
        let cidLength: Int
        do {
            (cid, cidLength) = try CID.parsePrefix(section)
        } catch {
            throw IPLDError(.malformedInput, "CAR section does not start with a CID", underlying: error)
        }
        return try IPLDBlock(cid: cid, bytes: Array(section[cidLength...]))
    }

    /// Reads every remaining block.
    public mutating func readAll() throws -> [IPLDBlock] {
        var blocks: [IPLDBlock] = []
        while let block = try next() { blocks.append(block) }
        return blocks
    }
}

/// A read-ahead buffer over a `read(maxCount)` source.
struct BufferedSource {
    let read: (Int) throws -> [UInt8]
    private var buffer: [UInt8] = []
    private var index = 0
    private var atEnd = false

    init(read: @escaping (Int) throws -> [UInt8]) {
        self.read = read
    }

    /// Ensures at least one unread byte; returns `false` at end of stream.
    private mutating func fill() throws -> Bool {
        if index < buffer.count { return true }
        guard !atEnd else { return false }
        let chunk = try read(CARReader.readSize)
        guard chunk.count <= CARReader.readSize else {
            throw IPLDError(.malformedInput, "read returned more bytes than asked for")
        }
        if chunk.isEmpty {
            atEnd = true
            return false
        }
        buffer = chunk
        index = 0
        return true
    }

    /// Reads an unsigned varint; `nil` if the stream ends before its first byte and
    /// `atBoundary` allows that.
    mutating func readVarint(atBoundary: Bool) throws -> UInt64? {
        var bytes: [UInt8] = []
        while true {
            guard try fill() else {
                if bytes.isEmpty && atBoundary { return nil }
                throw IPLDError(.truncated, "CAR stream ends inside a length")
            }
            let byte = buffer[index]
            index += 1
            bytes.append(byte)
            if byte & 0x80 == 0 { break }
            guard bytes.count < Varint.maxLength else {
                throw IPLDError(.malformedInput, "CAR length varint longer than \(Varint.maxLength) bytes")
            }
        }
        do {
            return try Varint.decode(bytes).value
        } catch {
            throw IPLDError(.malformedInput, "bad CAR length varint", underlying: error)
        }
    }

    /// Reads exactly `count` bytes (the caller has bounded `count`).
    mutating func readExactly(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            guard try fill() else {
                throw IPLDError(.truncated, "CAR stream ends \(count - result.count) bytes before the end of a section")
            }
            let take = min(count - result.count, buffer.count - index)
            result.append(contentsOf: buffer[index..<index + take])
            index += take
        }
        return result
    }
}
