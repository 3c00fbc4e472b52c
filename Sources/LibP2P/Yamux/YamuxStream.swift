import NIOCore
import Synchronization

/// One Yamux stream: a ``ByteStream`` multiplexed over a ``YamuxSession``.
///
/// - `read()` returns payloads in order; `nil` once the peer sent FIN and the buffer is drained;
///   throws `streamReset` after an RST from the peer, `closed` after our `close()` or when the
///   session ended with the peer's side still open. Reading grants credit back to the peer
///   (spec.md "Flow Control"), so a reader that stops reading stops the sender.
/// - `write(_:)` splits into Data frames of at most ``YamuxConfiguration/maxFramePayload`` bytes
///   and suspends while the send window is empty. Concurrent writes are serialized whole.
/// - `closeWrite()` sends FIN (spec.md "Stream Close").
/// - `close()` sends RST unless both sides already sent FIN, and discards unread data: the
///   `ByteStream` contract for `close()` is an abort. Use `closeWrite()` then read to EOF for a
///   graceful end. Either way the stream leaves the session table once it is terminal.
public final class YamuxStream: ByteStream {
    /// The stream id (spec.md "Stream Establishment": odd for the dialer, even for the listener).
    public let id: UInt32
    private let session: YamuxSession
    private let shared: Mutex<Shared>

    private struct Shared {
        var machine: YamuxStreamState
        var inbound = CircularBuffer<ByteBuffer>()
        var reader: CheckedContinuation<ByteBuffer?, any Error>?
        var windowWaiter: CheckedContinuation<Void, any Error>?
        var writing = false
        var writeTurnWaiters = CircularBuffer<CheckedContinuation<Void, Never>>()
        var failure = LibP2PError(.streamReset, "yamux: stream reset")
    }

    init(id: UInt32, outbound: Bool, session: YamuxSession) {
        self.id = id
        self.session = session
        self.shared = Mutex(Shared(machine: YamuxStreamState(outbound: outbound)))
    }

    /// The current receive window (grows under auto-tuning up to ``YamuxConfiguration/maxStreamWindow``).
    public var receiveWindow: UInt32 { shared.withLock { $0.machine.receiveWindow } }
    /// The bytes we may send before the peer grants more credit.
    public var sendWindow: UInt32 { shared.withLock { $0.machine.sendWindow } }
    /// The stream's lifecycle state.
    public var state: YamuxStreamState.State { shared.withLock { $0.machine.state } }
    /// Bytes received and not yet read.
    var bufferedBytes: Int { shared.withLock { $0.machine.bufferedBytes } }

    // MARK: ByteStream

    /// The next payload, or `nil` after the peer's FIN (spec.md "Stream Close").
    public func read() async throws -> ByteBuffer? {
        enum Step { case data(ByteBuffer, YamuxStreamState.WindowUpdate?), end, wait }
        let rtt = session.currentRTT
        let step: Step = try shared.withLock { s in
            if s.machine.state == .reset { throw s.failure }
            if let chunk = s.inbound.popFirst() {
                return .data(chunk, s.machine.consume(count: chunk.readableBytes, now: .now, rtt: rtt))
            }
            if s.machine.isRemoteDone { return .end }
            precondition(s.reader == nil, "yamux: concurrent reads on one stream")
            s.machine.readerWillWait()
            return .wait
        }
        switch step {
        case .end:
            return nil
        case .data(let chunk, let update):
            await sendWindowUpdate(update)
            return chunk
        case .wait:
            guard let chunk = try await waitForData() else { return nil }
            let update = shared.withLock { $0.machine.consume(count: chunk.readableBytes, now: .now, rtt: rtt) }
            await sendWindowUpdate(update)
            return chunk
        }
    }

    /// Sends `buffer` as Data frames, waiting for send window as needed (spec.md "Flow Control").
    public func write(_ buffer: ByteBuffer) async throws {
        await acquireWriteTurn()
        defer { releaseWriteTurn() }
        var remaining = buffer
        while remaining.readableBytes > 0 {
            // Take as much send window as is available (up to a batch), then write the frames
            // for it in one connection write: one Noise seal call and one socket write per batch.
            let limit = min(remaining.readableBytes, YamuxConfiguration.maxFramePayload * YamuxConfiguration.maxFramesPerWrite)
            let (count, flags) = try await reserveSendWindow(limit: limit)
            let frameCount = (count + YamuxConfiguration.maxFramePayload - 1) / YamuxConfiguration.maxFramePayload
            var frames = ByteBuffer()
            frames.reserveCapacity(count + frameCount * YamuxFrameHeader.size)
            var left = count
            var frameFlags = flags
            while left > 0 {
                let size = min(left, YamuxConfiguration.maxFramePayload)
                YamuxFrameHeader(type: .data, flags: frameFlags, streamID: id, length: UInt32(size)).encode(into: &frames)
                var chunk = remaining.readSlice(length: size)!
                frames.writeBuffer(&chunk)
                left -= size
                frameFlags = []
            }
            try await session.send(frames)
        }
    }

    /// Sends FIN: we write no more; reading continues until the peer's FIN (spec.md "Stream Close").
    public func closeWrite() async throws {
        await acquireWriteTurn()
        defer { releaseWriteTurn() }
        let (flags, terminal) = try shared.withLock { s in
            (try s.machine.closeWrite(), s.machine.isTerminal)
        }
        if terminal { session.streamFinished(self) }
        guard let flags else { return }
        try await session.send(YamuxFrameHeader(type: .windowUpdate, flags: flags, streamID: id, length: 0).encoded())
    }

    /// Aborts the stream: RST unless both sides already closed; unread data is dropped.
    public func close() async {
        let (sendReset, reader, writer) = shared.withLock { s in
            let sendReset = s.machine.reset()
            if sendReset { s.failure = LibP2PError(.closed, "yamux: stream closed locally") }
            s.inbound.removeAll()
            defer { s.reader = nil; s.windowWaiter = nil }
            return (sendReset, s.reader, s.windowWaiter)
        }
        let error = LibP2PError(.closed, "yamux: stream closed locally")
        reader?.resume(throwing: error)
        writer?.resume(throwing: error)
        session.streamFinished(self)
        if sendReset {
            try? await session.send(YamuxFrameHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0).encoded())
        }
    }

    // MARK: Session side

    /// Applies a Data or WindowUpdate frame from the peer. Returns whether the stream is now
    /// terminal (to be removed from the session table).
    ///
    /// - Throws: a protocol error (data beyond the window, window overflow).
    func receive(_ header: YamuxFrameHeader, payload: ByteBuffer) throws -> Bool {
        var resumeReader: (CheckedContinuation<ByteBuffer?, any Error>, Result<ByteBuffer?, any Error>)?
        var resumeWriter: (CheckedContinuation<Void, any Error>, Result<Void, any Error>)?
        let terminal = try shared.withLock { s in
            if header.flags.contains(.rst) {
                if s.machine.receiveReset() {
                    s.failure = LibP2PError(.streamReset, "yamux: stream reset by peer")
                    s.inbound.removeAll()
                    if let reader = s.reader { resumeReader = (reader, .failure(s.failure)) }
                    if let writer = s.windowWaiter { resumeWriter = (writer, .failure(s.failure)) }
                    s.reader = nil
                    s.windowWaiter = nil
                }
                return s.machine.isTerminal
            }
            s.machine.receive(flags: header.flags.subtracting(.fin))
            if header.type == .windowUpdate, header.length > 0 {
                try s.machine.receiveWindowUpdate(delta: header.length)
                if let writer = s.windowWaiter {
                    resumeWriter = (writer, .success(()))
                    s.windowWaiter = nil
                }
            }
            if header.type == .data, payload.readableBytes > 0 {
                if try s.machine.receiveData(count: payload.readableBytes) {
                    if let reader = s.reader {
                        resumeReader = (reader, .success(payload))
                        s.reader = nil
                    } else {
                        s.inbound.append(payload)
                    }
                }
            }
            if header.flags.contains(.fin) {
                s.machine.receive(flags: .fin)
                if let reader = s.reader {
                    resumeReader = (reader, .success(nil))
                    s.reader = nil
                }
            }
            return s.machine.isTerminal
        }
        if let (continuation, result) = resumeReader { continuation.resume(with: result) }
        if let (continuation, result) = resumeWriter { continuation.resume(with: result) }
        return terminal
    }

    /// The session ended: fail waiters; keep unread data if the peer had finished sending.
    func sessionEnded(_ error: LibP2PError) {
        let (reader, readerResult, writer) = shared.withLock { s in
            s.machine.sessionEnded()
            var readerResult: Result<ByteBuffer?, any Error> = .success(nil)
            if s.machine.state == .reset {
                s.failure = error
                s.inbound.removeAll()
                readerResult = .failure(error)
            }
            defer { s.reader = nil; s.windowWaiter = nil }
            return (s.reader, readerResult, s.windowWaiter)
        }
        reader?.resume(with: readerResult)
        writer?.resume(throwing: error)
    }

    /// Sends the ACK of an accepted inbound stream (go-yamux `AcceptStream`).
    func acknowledge() async {
        let rtt = session.currentRTT
        let update = shared.withLock { $0.machine.acknowledge(now: .now, rtt: rtt) }
        await sendWindowUpdate(update)
    }

    // MARK: Helpers

    private func sendWindowUpdate(_ update: YamuxStreamState.WindowUpdate?) async {
        guard let update else { return }
        let header = YamuxFrameHeader(type: .windowUpdate, flags: update.flags, streamID: id, length: update.delta)
        // A failure here means the session is gone; the next read reports it.
        try? await session.send(header.encoded())
    }

    private func waitForData() async throws -> ByteBuffer? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
                let immediate: Result<ByteBuffer?, any Error>? = shared.withLock { s in
                    if s.machine.state == .reset { return .failure(s.failure) }
                    if let chunk = s.inbound.popFirst() { return .success(chunk) }
                    if s.machine.isRemoteDone { return .success(nil) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.reader = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let reader = shared.withLock { s in defer { s.reader = nil }; return s.reader }
            reader?.resume(throwing: CancellationError())
        }
    }

    private func reserveSendWindow(limit: Int) async throws -> (count: Int, flags: YamuxFrameHeader.Flags) {
        while true {
            let reserved = try shared.withLock { try $0.machine.reserveSend(limit: limit) }
            if reserved.count > 0 { return reserved }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate: Result<Void, any Error>? = shared.withLock { s in
                        if s.machine.sendWindow > 0 || s.machine.isTerminal { return .success(()) }
                        if Task.isCancelled { return .failure(CancellationError()) }
                        s.windowWaiter = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let writer = shared.withLock { s in defer { s.windowWaiter = nil }; return s.windowWaiter }
                writer?.resume(throwing: CancellationError())
            }
        }
    }

    private func acquireWriteTurn() async {
        let granted = shared.withLock { s in
            guard !s.writing else { return false }
            s.writing = true
            return true
        }
        guard !granted else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let grantedNow = shared.withLock { s in
                guard s.writing else {
                    s.writing = true
                    return true
                }
                s.writeTurnWaiters.append(continuation)
                return false
            }
            if grantedNow { continuation.resume() }
        }
    }

    private func releaseWriteTurn() {
        let next = shared.withLock { s in
            guard let next = s.writeTurnWaiters.popFirst() else {
                s.writing = false
                return nil as CheckedContinuation<Void, Never>?
            }
            return next
        }
        next?.resume()
    }
}
