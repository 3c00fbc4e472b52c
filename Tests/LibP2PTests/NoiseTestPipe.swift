import LibP2P
import NIOCore
import Synchronization

/// One end of an in-memory `ByteStream` pair for Noise tests.
///
/// Reads return the pending bytes in pieces whose sizes cycle through `readChunkSizes`, gathered
/// across writes, so tests can split frames at odd boundaries or deliver several at once.
final class NoiseTestPipe: ByteStream {
    /// One direction of the pipe: a byte queue with a single waiting reader.
    final class Direction: Sendable {
        struct State {
            var pending = ByteBuffer()
            var isFinished = false
            var isAborted = false
            var reader: CheckedContinuation<ByteBuffer?, any Error>?
            var writeCount = 0
            var nextChunkSize = 0
        }

        let state = Mutex(State())
        let readChunkSizes: [Int]

        init(readChunkSizes: [Int]) {
            precondition(!readChunkSizes.isEmpty && readChunkSizes.allSatisfy { $0 > 0 })
            self.readChunkSizes = readChunkSizes
        }

        var writeCount: Int { state.withLock { $0.writeCount } }

        func push(_ buffer: ByteBuffer) throws {
            let resume = try state.withLock { state -> (CheckedContinuation<ByteBuffer?, any Error>, ByteBuffer)? in
                guard !state.isAborted else { throw LibP2PError(.closed, "test pipe aborted") }
                guard !state.isFinished else { throw LibP2PError(.closed, "test pipe closed for writing") }
                state.writeCount += 1
                var buffer = buffer
                state.pending.writeBuffer(&buffer)
                guard let reader = state.reader else { return nil }
                state.reader = nil
                return (reader, takePiece(&state))
            }
            if let (reader, piece) = resume { reader.resume(returning: piece) }
        }

        func finish() {
            let reader = state.withLock { state in
                state.isFinished = true
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(returning: nil)
        }

        func abort() {
            let reader = state.withLock { state in
                state.isAborted = true
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(throwing: LibP2PError(.closed, "test pipe aborted"))
        }

        func pull() async throws -> ByteBuffer? {
            try await withCheckedThrowingContinuation { continuation in
                let result = state.withLock { state -> Result<ByteBuffer?, any Error>? in
                    if state.isAborted { return .failure(LibP2PError(.closed, "test pipe aborted")) }
                    if state.pending.readableBytes > 0 { return .success(takePiece(&state)) }
                    if state.isFinished { return .success(nil) }
                    precondition(state.reader == nil, "one reader at a time")
                    state.reader = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        }

        private func takePiece(_ state: inout State) -> ByteBuffer {
            let size = readChunkSizes[state.nextChunkSize % readChunkSizes.count]
            state.nextChunkSize += 1
            let piece = state.pending.readSlice(length: min(size, state.pending.readableBytes))!
            if state.pending.readableBytes == 0 { state.pending.clear() }
            return piece  // value semantics: a later write to `pending` copies on write
        }
    }

    let incoming: Direction
    let outgoing: Direction
    let suspendsInWrite: Bool

    private init(incoming: Direction, outgoing: Direction, suspendsInWrite: Bool) {
        self.incoming = incoming
        self.outgoing = outgoing
        self.suspendsInWrite = suspendsInWrite
    }

    /// Two connected ends; `readChunkSizes` shapes the reads of both. With `suspendsInWrite`,
    /// every write yields a random number of times first, like a socket with a full buffer, so
    /// that concurrent writers really race.
    static func makePair(readChunkSizes: [Int] = [Int.max], suspendsInWrite: Bool = false) -> (NoiseTestPipe, NoiseTestPipe) {
        let aToB = Direction(readChunkSizes: readChunkSizes)
        let bToA = Direction(readChunkSizes: readChunkSizes)
        return (
            NoiseTestPipe(incoming: bToA, outgoing: aToB, suspendsInWrite: suspendsInWrite),
            NoiseTestPipe(incoming: aToB, outgoing: bToA, suspendsInWrite: suspendsInWrite)
        )
    }

    func read() async throws -> ByteBuffer? { try await incoming.pull() }

    func write(_ buffer: ByteBuffer) async throws {
        if suspendsInWrite {
            for _ in 0..<Int.random(in: 0...3) { await Task.yield() }
        }
        try outgoing.push(buffer)
    }

    func closeWrite() async throws { outgoing.finish() }
    func close() async {
        incoming.abort()
        outgoing.abort()
    }
}
