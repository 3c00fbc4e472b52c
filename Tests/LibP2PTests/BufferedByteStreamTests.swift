@testable import LibP2P
import Multiformats
import NIOCore
import Synchronization
import Testing

/// `BufferedByteStream` over a long-lived stream: the read-ahead buffer drops consumed bytes
/// (compaction) so memory stays bounded, and no byte is lost or reordered when it does.
@Suite struct BufferedByteStreamTests {
    /// Fixed-size frames read through chunks that never end where the reader has consumed all it
    /// holds, so the buffer always has leftover bytes when it grows and is never simply replaced
    /// by the next chunk: only compaction can keep it small.
    @Test func compactsConsumedBytesOfALongLivedStream() async throws {
        let payloadLength = 99  // + 1 varint byte = 100-byte frames
        let payloads = (0..<20_000).map { Self.payload(index: $0, length: payloadLength) }  // 2 MB
        let wire = Self.frames(payloads)
        // Chunks end at 2 + 4096k (2 mod 4); the reader stops at 100m and 100m + 1 (0 and 1 mod 4).
        let chunkSize = 4096
        let chunkSizes = [2] + Array(repeating: chunkSize, count: wire.count / chunkSize + 1)
        let stream = BufferedByteStream(ChunkedByteStream(wire, chunkSizes: chunkSizes))

        let bound = BufferedByteStream.compactionThreshold + chunkSize + payloadLength + 1
        #expect(wire.count > 16 * bound)
        let largestRetained = try await Self.readAll(payloads, from: stream, maximumLength: 1024)
        #expect(largestRetained <= bound)
        #expect(largestRetained > BufferedByteStream.compactionThreshold)  // it did fill up to compaction
        #expect(try await stream.read() == nil)
    }

    /// Frames of mixed sizes (one- and two-byte varints, some longer than a chunk) over a pipe that
    /// splits and merges writes at pseudo-random points: every byte arrives once and in order, and
    /// the buffer stays bounded.
    @Test func keepsEveryByteInOrderAcrossCompactions() async throws {
        let maxPayload = 3000
        let payloads = (0..<1500).map { Self.payload(index: $0, length: $0 * 7919 % maxPayload) }  // about 2 MB
        let maxReadChunk = 8192
        // Room for everything, so the writer never waits on a reader that stopped at a bad message.
        let (writer, reader) = InMemoryByteStream.makePair(capacity: 8 << 20, maxReadChunk: maxReadChunk)
        async let written: Void = {
            for payload in payloads { try await writer.writeLengthPrefixed(payload) }
            try await writer.closeWrite()
        }()
        let stream = BufferedByteStream(reader)

        let bound = BufferedByteStream.compactionThreshold + maxReadChunk + maxPayload + Varint.encodedLength(of: UInt64(maxPayload))
        let largestRetained = try await Self.readAll(payloads, from: stream, maximumLength: 4096)
        try await written
        #expect(largestRetained <= bound)
        #expect(try await stream.read() == nil)
    }

    /// Reads one length-prefixed message per payload, checking each against it; returns the most
    /// bytes the read-ahead buffer held after any message.
    private static func readAll(_ payloads: [[UInt8]], from stream: BufferedByteStream, maximumLength: Int) async throws -> Int {
        var largestRetained = 0
        for (index, expected) in payloads.enumerated() {
            let message = try await stream.readLengthPrefixed(maximumLength: maximumLength)
            guard Array(message.readableBytesView) == expected else {
                Issue.record("message \(index) of \(payloads.count) differs from what was sent")
                break
            }
            largestRetained = max(largestRetained, stream.retainedByteCount)
        }
        return largestRetained
    }

    /// Bytes that name their message and position, so a lost, duplicated or swapped byte shows.
    private static func payload(index: Int, length: Int) -> [UInt8] {
        (0..<length).map { offset in
            offset < 4 ? UInt8(truncatingIfNeeded: UInt32(index) >> (24 - 8 * offset)) : UInt8(truncatingIfNeeded: index &* 31 &+ offset)
        }
    }

    /// `uvarint(length) ‖ payload` for each payload, back to back.
    private static func frames(_ payloads: [[UInt8]]) -> [UInt8] {
        var wire: [UInt8] = []
        for payload in payloads {
            wire += Varint.encode(UInt64(payload.count))
            wire += payload
        }
        return wire
    }
}

/// A read-only `ByteStream` that hands out fixed bytes in chunks of the given sizes.
private final class ChunkedByteStream: ByteStream {
    private let state: Mutex<(bytes: ArraySlice<UInt8>, chunkSizes: ArraySlice<Int>)>

    init(_ bytes: [UInt8], chunkSizes: [Int]) {
        state = Mutex((bytes[...], chunkSizes[...]))
    }

    func read() async throws -> ByteBuffer? {
        state.withLock { state in
            guard !state.bytes.isEmpty else { return nil }
            let size = min(state.chunkSizes.popFirst() ?? state.bytes.count, state.bytes.count)
            defer { state.bytes = state.bytes.dropFirst(size) }
            return ByteBuffer(bytes: state.bytes.prefix(size))
        }
    }

    func write(_ buffer: ByteBuffer) async throws {
        throw LibP2PError(.closed, "read-only test stream")
    }

    func closeWrite() async throws {}

    func close() async {}
}
