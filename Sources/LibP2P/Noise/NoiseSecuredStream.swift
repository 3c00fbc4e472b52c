import NIOCore
import Synchronization

/// A ``ByteStream`` secured by Noise transport messages: writes are split into frames of at most
/// 65519 plaintext bytes, encrypted and length-prefixed; reads reverse it (libp2p noise spec,
/// "Wire format"; Noise spec rev 34 §5.1 transport phase).
///
/// Writes from concurrent callers are serialized by a FIFO write lock held across encryption
/// and the `underlying.write`, so each caller's frames are contiguous on the wire and nonces
/// appear in the order the peer decrypts them. All frames of one `write(_:)` go down in one
/// underlying write.
public final class NoiseSecuredStream: ByteStream {
    private struct ReadState: Sendable {
        var cipher: NoiseCipherState
        /// Bytes read from `underlying` that do not yet form a complete frame.
        var inbound: ByteBuffer
        /// Set once reading failed or the stream was closed; later reads rethrow it.
        var failure: LibP2PError?
        /// Set once `nil` was returned at a clean EOF.
        var isAtEOF = false
        /// Bytes read after the frame that `inbound` was completed with; opened right after it.
        var spill: ByteBuffer?
    }

    private struct WriteState: Sendable {
        var cipher: NoiseCipherState
        /// Whether a writer holds the write lock.
        var isLocked = false
        /// Writers waiting for the lock, first come first served.
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Set once a write failed (the wire and the nonce no longer agree), after `closeWrite`
        /// or `close`; later writes throw it.
        var failure: LibP2PError?
    }

    /// What the buffered input yields.
    private enum ReadStep {
        case plaintext(ByteBuffer)
        case endOfStream
        case needMoreBytes
    }

    private let underlying: any ByteStream
    private let readState: Mutex<ReadState>
    private let writeState: Mutex<WriteState>

    /// Wraps `underlying` after a completed handshake.
    ///
    /// - Parameters:
    ///   - underlying: the insecure stream the handshake ran over.
    ///   - send: the cipher state for our direction (``NoiseXXHandshake/split()``).
    ///   - receive: the cipher state for the peer's direction.
    ///   - bufferedInput: bytes already read from `underlying` after the last handshake message.
    public init(
        underlying: any ByteStream,
        send: NoiseCipherState,
        receive: NoiseCipherState,
        bufferedInput: ByteBuffer = ByteBuffer()
    ) {
        self.underlying = underlying
        self.readState = Mutex(ReadState(cipher: receive, inbound: bufferedInput))
        self.writeState = Mutex(WriteState(cipher: send))
    }

    /// The plaintext of the next complete frame or frames, or `nil` at EOF on a frame boundary.
    ///
    /// Throws ``LibP2PError/Code/unexpectedEOF`` at EOF inside a frame and
    /// ``LibP2PError/Code/decryptionFailed`` for a frame that fails authentication.
    public func read() async throws -> ByteBuffer? {
        while true {
            let step: ReadStep = try readState.withLock { state in
                if let failure = state.failure { throw failure }
                if state.isAtEOF { return .endOfStream }
                guard NoiseFrameCodec.hasCompleteFrame(state.inbound) else { return .needMoreBytes }
                var output = ByteBufferAllocator().buffer(
                    capacity: state.inbound.readableBytes + (state.spill?.readableBytes ?? 0))
                do {
                    try NoiseFrameCodec.openFrames(from: &state.inbound, with: &state.cipher, into: &output)
                    if let spill = state.spill {
                        state.spill = nil
                        if state.inbound.readableBytes == 0 {
                            state.inbound = spill
                        } else {
                            state.inbound.writeImmutableBuffer(spill)
                        }
                        try NoiseFrameCodec.openFrames(from: &state.inbound, with: &state.cipher, into: &output)
                    }
                    return .plaintext(output)
                } catch {
                    let failure = error as? LibP2PError
                        ?? LibP2PError(.decryptionFailed, "Noise transport frame failed", underlying: error)
                    state.failure = failure
                    throw failure
                }
            }
            switch step {
            case .plaintext(let plaintext): return plaintext
            case .endOfStream: return nil
            case .needMoreBytes: break
            }

            let chunk: ByteBuffer?
            do {
                chunk = try await underlying.read()
            } catch {
                readState.withLock { state in
                    if state.failure == nil {
                        state.failure = LibP2PError(.streamReset, "Noise underlying read failed", underlying: error)
                    }
                }
                throw error
            }
            try readState.withLock { state in
                guard let chunk else {
                    guard state.inbound.readableBytes == 0 else {
                        let failure = LibP2PError(
                            .unexpectedEOF,
                            "Noise stream ended inside a frame (\(state.inbound.readableBytes) bytes pending)"
                        )
                        state.failure = failure
                        throw failure
                    }
                    state.isAtEOF = true
                    return
                }
                if state.inbound.readableBytes == 0 {
                    state.inbound = chunk
                } else {
                    // Complete the pending partial frame with just the bytes it lacks; the rest of
                    // the chunk stays a slice (no copy) and is opened right after that frame.
                    var rest = chunk
                    NoiseFrameCodec.completeFrame(&state.inbound, from: &rest)
                    if rest.readableBytes > 0 { state.spill = rest }
                }
            }
        }
    }

    /// Encrypts `buffer` into frames and writes them to the underlying stream in one write,
    /// in order with other writes.
    public func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        await lockWrites()
        defer { unlockWrites() }
        let frames: ByteBuffer = try writeState.withLock { state in
            if let failure = state.failure { throw failure }
            var frames = ByteBufferAllocator().buffer(capacity: 0)
            do {
                try NoiseFrameCodec.sealFrames(buffer, with: &state.cipher, into: &frames)
            } catch {
                state.failure = error as? LibP2PError
                    ?? LibP2PError(.decryptionFailed, "Noise encryption failed", underlying: error)
                throw error
            }
            return frames
        }
        do {
            try await underlying.write(frames)
        } catch {
            writeState.withLock { state in
                if state.failure == nil {
                    state.failure = LibP2PError(.streamReset, "Noise underlying write failed", underlying: error)
                }
            }
            throw error
        }
    }

    /// Half-closes after all writes queued before it; later writes throw.
    public func closeWrite() async throws {
        await lockWrites()
        defer { unlockWrites() }
        let alreadyClosed = writeState.withLock { state in
            if state.failure != nil { return true }
            state.failure = LibP2PError(.closed, "Noise stream closed for writing")
            return false
        }
        if !alreadyClosed {
            try await underlying.closeWrite()
        }
    }

    /// Aborts both directions; later reads and writes throw ``LibP2PError/Code/closed``.
    public func close() async {
        let closed = LibP2PError(.closed, "Noise stream closed")
        readState.withLock { state in
            if state.failure == nil { state.failure = closed }
        }
        writeState.withLock { state in
            if state.failure == nil { state.failure = closed }
        }
        await underlying.close()
    }

    // MARK: - Write lock

    /// Waits for the FIFO write lock; held across encryption and the underlying write so that
    /// nonces and wire order agree. Not cancellable: the holder always finishes or fails.
    private func lockWrites() async {
        let acquired = writeState.withLock { state in
            guard state.isLocked else {
                state.isLocked = true
                return true
            }
            return false
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquiredNow = writeState.withLock { state in
                guard state.isLocked else {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquiredNow { continuation.resume() }
        }
    }

    /// Hands the write lock to the longest waiter, or releases it.
    private func unlockWrites() {
        let next = writeState.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
