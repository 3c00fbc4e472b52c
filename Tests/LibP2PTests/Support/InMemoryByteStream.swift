import LibP2P
import NIOCore
import Synchronization

/// A test-only connected pair of ``ByteStream``s, like two ends of a TCP connection.
///
/// Realistic on purpose: each direction buffers at most `capacity` bytes (a writer suspends until
/// the reader drains below it), and reads return chunks of pseudo-random size, so writes are
/// split and merged arbitrarily. Deterministic for a given seed.
final class InMemoryByteStream: ByteStream {
    private let inbound: Pipe
    private let outbound: Pipe

    private init(inbound: Pipe, outbound: Pipe) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Two connected ends. `maxReadChunk` bounds the size of one `read()` result.
    static func makePair(
        capacity: Int = 1 << 20, maxReadChunk: Int = 96 * 1024, seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    ) -> (InMemoryByteStream, InMemoryByteStream) {
        let aToB = Pipe(capacity: capacity, maxReadChunk: maxReadChunk, seed: seed)
        let bToA = Pipe(capacity: capacity, maxReadChunk: maxReadChunk, seed: seed &* 31 &+ 7)
        return (InMemoryByteStream(inbound: bToA, outbound: aToB), InMemoryByteStream(inbound: aToB, outbound: bToA))
    }

    /// Bytes written by this end and not yet read by the other.
    var bytesInFlight: Int { outbound.bufferedBytes }

    func read() async throws -> ByteBuffer? { try await inbound.read() }
    func write(_ buffer: ByteBuffer) async throws { try await outbound.write(buffer) }
    func closeWrite() async throws { outbound.finish() }
    func close() async {
        outbound.finish()
        inbound.abort()
    }
}

/// One direction of an ``InMemoryByteStream`` pair.
private final class Pipe: Sendable {
    private struct State {
        var chunks = CircularBuffer<ByteBuffer>()
        var bytes = 0
        var finished = false
        var aborted = false
        var reader: CheckedContinuation<Void, any Error>?
        var writers: [CheckedContinuation<Void, any Error>] = []
        var random: UInt64
    }

    private let capacity: Int
    private let maxReadChunk: Int
    private let state: Mutex<State>

    init(capacity: Int, maxReadChunk: Int, seed: UInt64) {
        self.capacity = capacity
        self.maxReadChunk = maxReadChunk
        self.state = Mutex(State(random: seed))
    }

    var bufferedBytes: Int { state.withLock { $0.bytes } }

    func write(_ buffer: ByteBuffer) async throws {
        let (reader, mustWait) = try state.withLock { s in
            if s.aborted { throw LibP2PError(.closed, "pipe aborted") }
            if s.finished { throw LibP2PError(.closed, "pipe closed for writing") }
            if buffer.readableBytes > 0 {
                s.chunks.append(buffer)
                s.bytes += buffer.readableBytes
            }
            defer { s.reader = nil }
            return (s.reader, s.bytes > capacity)
        }
        reader?.resume()
        guard mustWait else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, any Error>? = state.withLock { s in
                if s.aborted { return .failure(LibP2PError(.closed, "pipe aborted")) }
                if s.bytes <= capacity { return .success(()) }
                s.writers.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    func read() async throws -> ByteBuffer? {
        while true {
            let (result, writers): (ByteBuffer??, [CheckedContinuation<Void, any Error>]) = try state.withLock { s in
                if s.aborted { throw LibP2PError(.closed, "pipe aborted") }
                guard s.bytes > 0 else { return (s.finished ? .some(nil) : nil, []) }
                s.random = s.random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let want = min(s.bytes, 1 + Int((s.random >> 33) % UInt64(maxReadChunk)))
                var out: ByteBuffer
                if var first = s.chunks.first, first.readableBytes >= want {
                    out = first.readSlice(length: want)!
                    if first.readableBytes == 0 { s.chunks.removeFirst() } else { s.chunks[s.chunks.startIndex] = first }
                } else {
                    out = ByteBuffer()
                    out.reserveCapacity(want)
                    while out.readableBytes < want {
                        var first = s.chunks.removeFirst()
                        var part = first.readSlice(length: min(first.readableBytes, want - out.readableBytes))!
                        out.writeBuffer(&part)
                        if first.readableBytes > 0 { s.chunks.prepend(first) }
                    }
                }
                s.bytes -= want
                guard s.bytes <= capacity else { return (.some(out), []) }
                defer { s.writers.removeAll() }
                return (.some(out), s.writers)
            }
            for writer in writers { writer.resume() }
            if let result { return result }
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready = state.withLock { s in
                    if s.bytes > 0 || s.finished || s.aborted { return true }
                    s.reader = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    func finish() {
        let reader = state.withLock { s in
            s.finished = true
            defer { s.reader = nil }
            return s.reader
        }
        reader?.resume()
    }

    func abort() {
        let (reader, writers) = state.withLock { s in
            s.aborted = true
            defer { s.reader = nil; s.writers.removeAll() }
            return (s.reader, s.writers)
        }
        reader?.resume()
        for writer in writers { writer.resume(throwing: LibP2PError(.closed, "pipe aborted")) }
    }
}
