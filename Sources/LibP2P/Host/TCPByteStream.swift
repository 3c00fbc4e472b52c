import NIOCore
import Synchronization

/// A TCP connection as a `ByteStream`, fed by `TCPByteStreamHandler` on the channel's event loop.
///
/// Reads are buffered up to `highWaterMark` bytes; past that the handler stops asking the socket
/// for more until the reader drains the buffer, so a slow consumer pushes back on the peer
/// through TCP instead of growing memory.
public final class TCPByteStream: ByteStream {
    /// Bytes buffered from the socket before reading pauses.
    public static let highWaterMark = 1 << 20

    /// The NIO channel.
    public let channel: any Channel

    private struct State {
        var buffers: [ByteBuffer] = []
        var bufferedBytes = 0
        var inputClosed = false
        var failure: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
        var readPaused = false
        var writeFailure: (any Error)?
    }

    private let state = Mutex(State())

    init(channel: any Channel) {
        self.channel = channel
    }

    /// The remote address, as NIO reports it.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }
    /// The local address, as NIO reports it.
    public var localAddress: SocketAddress? { channel.localAddress }

    // MARK: Called by the handler on the event loop.

    /// Appends received bytes; returns whether reading should pause.
    func receive(_ buffer: ByteBuffer) -> Bool {
        let (waiter, pause): (CheckedContinuation<Void, Never>?, Bool) = state.withLock { state in
            state.buffers.append(buffer)
            state.bufferedBytes += buffer.readableBytes
            let waiter = state.waiter
            state.waiter = nil
            let pause = state.bufferedBytes >= Self.highWaterMark
            if pause { state.readPaused = true }
            return (waiter, pause)
        }
        waiter?.resume()
        return pause
    }

    func receiveEOF() {
        let waiter = state.withLock { state in
            state.inputClosed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func receiveError(_ error: any Error) {
        let waiter = state.withLock { state in
            if state.failure == nil { state.failure = error }
            state.inputClosed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    var shouldPauseReading: Bool {
        state.withLock { state in
            if state.bufferedBytes >= Self.highWaterMark {
                state.readPaused = true
                return true
            }
            return false
        }
    }

    // MARK: ByteStream

    public func read() async throws -> ByteBuffer? {
        while true {
            enum Step { case data(ByteBuffer, resume: Bool), eof, failed(any Error), wait }
            let step: Step = state.withLock { state in
                if !state.buffers.isEmpty {
                    // Hand buffers on as NIO read them (up to 256 KiB each): no copy here.
                    let first = state.buffers.removeFirst()
                    state.bufferedBytes -= first.readableBytes
                    var resume = false
                    if state.readPaused, state.bufferedBytes < Self.highWaterMark / 2 {
                        state.readPaused = false
                        resume = true
                    }
                    return .data(first, resume: resume)
                }
                if let failure = state.failure { return .failed(failure) }
                if state.inputClosed { return .eof }
                return .wait
            }
            switch step {
            case .data(let buffer, let resume):
                if resume { channel.read() }
                return buffer
            case .eof:
                return nil
            case .failed(let error):
                throw LibP2PError(.closed, "connection failed", underlying: error)
            case .wait:
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state in
                        if !state.buffers.isEmpty || state.inputClosed || state.failure != nil { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }

    public func write(_ buffer: ByteBuffer) async throws {
        if let failure = state.withLock({ $0.writeFailure }) {
            throw LibP2PError(.closed, "write failed", underlying: failure)
        }
        // While the channel is writable, queue the bytes without waiting for the socket: the
        // next write can be prepared meanwhile. Past the high-water mark, wait for this write to
        // reach the socket, which holds the writer back (back-pressure).
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(buffer, promise: promise)
        let future = promise.futureResult
        future.whenFailure { [weak self] error in
            self?.state.withLock { state in
                if state.writeFailure == nil { state.writeFailure = error }
            }
        }
        guard !channel.isWritable else { return }
        do {
            try await future.get()
        } catch {
            throw LibP2PError(.closed, "write failed", underlying: error)
        }
    }

    public func closeWrite() async throws {
        do {
            try await channel.close(mode: .output)
        } catch ChannelError.alreadyClosed {
            return
        } catch {
            throw LibP2PError(.closed, "half-close failed", underlying: error)
        }
    }

    public func close() async {
        try? await channel.close()
        receiveEOF()
    }
}

/// Glues a channel to its `TCPByteStream`: forwards reads, EOF and errors, and holds back
/// `read()` requests while the stream's buffer is above its high-water mark.
final class TCPByteStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let stream: TCPByteStream
    private var pendingRead = false

    init(stream: TCPByteStream) {
        self.stream = stream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        _ = stream.receive(unwrapInboundIn(data))
    }

    func read(context: ChannelHandlerContext) {
        if stream.shouldPauseReading {
            pendingRead = true
            return
        }
        pendingRead = false
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            stream.receiveEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream.receiveEOF()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stream.receiveError(error)
        context.close(promise: nil)
    }
}
