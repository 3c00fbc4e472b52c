import Logging
import NIOCore
import Synchronization

/// A Yamux session: many ``YamuxStream``s multiplexed over one secured connection.
///
/// The owner runs ``run()`` (the read loop) in its task group, opens streams with
/// ``openStream()`` and takes the peer's with ``acceptStream()``. Frames are written to the
/// connection one `write` call per frame, so header and payload stay contiguous.
///
/// Spec: hashicorp/yamux `spec.md`; libp2p `yamux/README.md` (`/yamux/1.0.0`); behaviour of
/// go-yamux v4 (`session.go`) where the spec is silent.
public final class YamuxSession: Sendable {
    /// Whether we dialed the connection (and so use odd stream ids).
    public let isInitiator: Bool
    /// Limits and timers.
    public let configuration: YamuxConfiguration
    private let connection: any ByteStream
    private let shared: Mutex<Shared>
    private let rttNanoseconds = Atomic<Int64>(0)
    private let controlFrames: AsyncStream<ByteBuffer>
    private let controlSink: AsyncStream<ByteBuffer>.Continuation
    private let logger = Logger(label: "libp2p.yamux")

    private struct PendingPing {
        var start: ContinuousClock.Instant
        var continuation: CheckedContinuation<Duration, any Error>
    }

    private struct Shared {
        var streams: [UInt32: YamuxStream] = [:]
        var nextStreamID: UInt32
        var pendingInbound = CircularBuffer<YamuxStream>()
        var acceptWaiters: [(id: UInt64, continuation: CheckedContinuation<YamuxStream, any Error>)] = []
        var nextWaiterID: UInt64 = 0
        var pings: [UInt32: PendingPing] = [:]
        var nextPingID: UInt32 = 0
        var localGoAway = false
        var remoteGoAway = false
        var ended: LibP2PError?
    }

    /// Why the read loop stopped.
    private enum Ending {
        case endOfStream
        case connectionFailed(any Error)
        case protocolViolation(LibP2PError)
        case peerGoAway(UInt32)
    }

    /// Creates a session over `connection`; call ``run()`` to start it.
    public init(connection: any ByteStream, isInitiator: Bool, configuration: YamuxConfiguration = .init()) {
        self.connection = connection
        self.isInitiator = isInitiator
        self.configuration = configuration
        self.shared = Mutex(Shared(nextStreamID: isInitiator ? 1 : 2))
        (controlFrames, controlSink) = AsyncStream.makeStream(
            of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(YamuxConfiguration.maxQueuedControlFrames))
    }

    /// The latest round-trip time measured by a ping, if any.
    public var currentRTT: Duration? {
        let nanoseconds = rttNanoseconds.load(ordering: .relaxed)
        return nanoseconds > 0 ? .nanoseconds(nanoseconds) : nil
    }

    /// Whether the peer sent GoAway (then ``openStream()`` throws).
    public var peerSentGoAway: Bool { shared.withLock { $0.remoteGoAway } }

    /// The number of streams in the session table (open or half-closed, not yet terminal).
    public var streamCount: Int { shared.withLock { $0.streams.count } }

    // MARK: Public API

    /// Reads and dispatches frames until the connection ends; then every stream fails.
    ///
    /// Returns normally on EOF, after ``close()`` or when the calling task is cancelled; throws when the peer violated the protocol
    /// (after sending GoAway "protocol error", spec.md "GoAway"), sent an error GoAway, or the
    /// connection failed. Also writes queued control frames (ping replies, refusals) and runs
    /// the keepalive pings and the initial RTT measurement.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [controlFrames, connection] in
                for await frame in controlFrames { try await connection.write(frame) }
            }
            // Cancelling the task that runs the session closes it (the read loop itself waits in
            // `connection.read()`, which need not observe cancellation).
            group.addTask {
                let (cancelled, keepOpen) = AsyncStream.makeStream(of: Never.self)
                for await _ in cancelled {}
                withExtendedLifetime(keepOpen) {}
                await self.close()
            }
            if configuration.measuresRTTAtStart {
                group.addTask { _ = try? await self.ping() }
            }
            if let interval = configuration.keepAliveInterval {
                group.addTask { await self.keepAlive(every: interval) }
            }
            let ending = await readLoop()
            let failure: LibP2PError?
            switch ending {
            case .endOfStream:
                failure = nil
                end(with: LibP2PError(.closed, "yamux: connection closed by peer"))
            case .connectionFailed(let error):
                let endedLocally = shared.withLock { $0.ended != nil }
                failure = endedLocally ? nil : LibP2PError(.closed, "yamux: connection failed", underlying: error)
                end(with: failure ?? LibP2PError(.closed, "yamux: session closed"))
            case .protocolViolation(let error):
                logger.warning("yamux: closing session: \(error)")
                failure = error
                end(with: error)
                let goAway = YamuxFrameHeader(
                    type: .goAway, streamID: 0, length: YamuxFrameHeader.GoAwayCode.protocolError.rawValue)
                try? await connection.write(goAway.encoded())
            case .peerGoAway(let code):
                logger.notice("yamux: peer ended the session with GoAway code \(code)")
                failure = LibP2PError(.closed, "yamux: peer sent GoAway with error code \(code)")
                end(with: failure!)
            }
            await connection.close()
            group.cancelAll()
            while !group.isEmpty { _ = try? await group.next() }
            if let failure { throw failure }
        }
    }

    /// Opens a stream: sends SYN (as a WindowUpdate, like go-yamux) without waiting for the ACK;
    /// data may follow at once (spec.md "Stream Establishment").
    ///
    /// - Throws: `closed` after the session ended or the peer sent GoAway; `limitExceeded` at
    ///   ``YamuxConfiguration/maxConcurrentStreams``.
    public func openStream() async throws -> YamuxStream {
        let stream = try shared.withLock { s in
            if let ended = s.ended { throw ended }
            if s.remoteGoAway { throw LibP2PError(.closed, "yamux: peer sent GoAway, no new streams") }
            guard s.streams.count < configuration.maxConcurrentStreams else {
                throw LibP2PError(.limitExceeded, "yamux: \(s.streams.count) streams open")
            }
            guard s.nextStreamID <= UInt32.max - 2 else {
                throw LibP2PError(.limitExceeded, "yamux: stream ids exhausted")
            }
            let stream = YamuxStream(id: s.nextStreamID, outbound: true, session: self)
            s.streams[stream.id] = stream
            s.nextStreamID += 2
            return stream
        }
        do {
            try await send(YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: stream.id, length: 0).encoded())
        } catch {
            streamFinished(stream)
            throw error
        }
        return stream
    }

    /// The next stream the peer opened, ACKed before it is returned (go-yamux `AcceptStream`).
    ///
    /// Up to ``YamuxConfiguration/maxPendingInboundStreams`` wait here; the peer's next SYN is
    /// answered with RST. Throws `closed` once the session ended.
    public func acceptStream() async throws -> YamuxStream {
        let waiterID = shared.withLock { s in
            defer { s.nextWaiterID += 1 }
            return s.nextWaiterID
        }
        let stream = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<YamuxStream, any Error>) in
                let immediate: Result<YamuxStream, any Error>? = shared.withLock { s in
                    if let stream = s.pendingInbound.popFirst() { return .success(stream) }
                    if let ended = s.ended { return .failure(ended) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.acceptWaiters.append((waiterID, continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = shared.withLock { s in
                s.acceptWaiters.firstIndex { $0.id == waiterID }.map { s.acceptWaiters.remove(at: $0) }
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        await stream.acknowledge()
        return stream
    }

    /// Sends a ping and returns the round-trip time (spec.md "Ping"). Needs ``run()`` running.
    public func ping() async throws -> Duration {
        let id = shared.withLock { s in
            s.nextPingID &+= 1
            return s.nextPingID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Duration, any Error>) in
                let failure: (any Error)? = shared.withLock { s in
                    if let ended = s.ended { return ended }
                    if Task.isCancelled { return CancellationError() }
                    s.pings[id] = PendingPing(start: .now, continuation: continuation)
                    return nil
                }
                if let failure {
                    continuation.resume(throwing: failure)
                    return
                }
                if !enqueueControl(YamuxFrameHeader(type: .ping, flags: .syn, streamID: 0, length: id)) {
                    let ping = shared.withLock { $0.pings.removeValue(forKey: id) }
                    ping?.continuation.resume(throwing: LibP2PError(.limitExceeded, "yamux: control queue full"))
                }
            }
        } onCancel: {
            let ping = shared.withLock { $0.pings.removeValue(forKey: id) }
            ping?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Sends GoAway "normal": the peer should open no more streams; inbound SYNs are reset from now
    /// on. Existing streams continue (spec.md "GoAway").
    public func goAway() async {
        let send = shared.withLock { s in
            guard !s.localGoAway, s.ended == nil else { return false }
            s.localGoAway = true
            return true
        }
        guard send else { return }
        let frame = YamuxFrameHeader(type: .goAway, streamID: 0, length: YamuxFrameHeader.GoAwayCode.normal.rawValue)
        try? await self.send(frame.encoded())
    }

    /// Ends the session at once: every stream, accept and ping fails with `closed`, the connection
    /// is closed, and ``run()`` returns.
    public func close() async {
        end(with: LibP2PError(.closed, "yamux: session closed"))
        await connection.close()
    }

    // MARK: Stream side

    /// Writes one complete frame to the connection.
    func send(_ frame: ByteBuffer) async throws {
        if let ended = shared.withLock({ $0.ended }) { throw ended }
        do {
            try await connection.write(frame)
        } catch {
            throw LibP2PError(.closed, "yamux: connection failed", underlying: error)
        }
    }

    /// Removes a terminal stream from the table.
    func streamFinished(_ stream: YamuxStream) {
        shared.withLock { s in
            if s.streams[stream.id] === stream { s.streams[stream.id] = nil }
        }
    }

    // MARK: Read loop

    private func readLoop() async -> Ending {
        var pending = ByteBuffer()
        while true {
            do {
                if let ending = try processFrames(&pending) { return ending }
            } catch let error as LibP2PError {
                return .protocolViolation(error)
            } catch {
                return .protocolViolation(LibP2PError(.malformedInput, "yamux: \(error)", underlying: error))
            }
            let chunk: ByteBuffer?
            do {
                chunk = try await connection.read()
            } catch {
                return .connectionFailed(error)
            }
            guard var chunk else { return .endOfStream }
            if pending.readableBytes == 0 {
                pending = chunk
            } else {
                pending.writeBuffer(&chunk)
            }
        }
    }

    /// Dispatches every complete frame in `pending`; leaves a partial frame in place.
    private func processFrames(_ pending: inout ByteBuffer) throws -> Ending? {
        while true {
            var cursor = pending
            guard let header = try YamuxFrameHeader(parsing: &cursor) else { return nil }
            var payload = ByteBuffer()
            if header.type == .data {
                guard header.length <= YamuxConfiguration.maxStreamWindow else {
                    throw LibP2PError(.frameTooLarge, "yamux: data frame of \(header.length) bytes")
                }
                guard let body = cursor.readSlice(length: Int(header.length)) else { return nil }
                payload = body
            }
            pending = cursor
            if let ending = try dispatch(header, payload: payload) { return ending }
        }
    }

    private func dispatch(_ header: YamuxFrameHeader, payload: ByteBuffer) throws -> Ending? {
        switch header.type {
        case .ping:
            if header.flags.contains(.syn) {
                try enqueueControlOrFail(YamuxFrameHeader(type: .ping, flags: .ack, streamID: 0, length: header.length))
            } else if header.flags.contains(.ack) {
                pongReceived(header.length)
            }
            return nil
        case .goAway:
            guard header.length != YamuxFrameHeader.GoAwayCode.normal.rawValue else {
                shared.withLock { $0.remoteGoAway = true }
                return nil
            }
            return .peerGoAway(header.length)
        case .data, .windowUpdate:
            guard header.streamID != 0 else {
                throw LibP2PError(.malformedInput, "yamux: stream frame on the session id 0")
            }
            let stream: YamuxStream?
            if header.flags.contains(.syn) {
                stream = try inboundStream(header.streamID)
            } else {
                stream = shared.withLock { $0.streams[header.streamID] }
            }
            // Unknown id: a stream we already reset or closed; late frames are dropped.
            guard let stream else { return nil }
            if try stream.receive(header, payload: payload) { streamFinished(stream) }
            return nil
        }
    }

    /// Registers a stream the peer opened, or refuses it with RST. Returns `nil` when refused.
    private func inboundStream(_ id: UInt32) throws -> YamuxStream? {
        let peerParity: UInt32 = isInitiator ? 0 : 1
        guard id % 2 == peerParity else {
            throw LibP2PError(.malformedInput, "yamux: peer opened stream \(id) with our id parity")
        }
        enum Outcome { case refuse(String), accept(YamuxStream, CheckedContinuation<YamuxStream, any Error>?), ignore }
        let outcome: Outcome = try shared.withLock { s in
            guard s.streams[id] == nil else {
                throw LibP2PError(.malformedInput, "yamux: peer opened stream \(id) twice")
            }
            if s.ended != nil { return .ignore }
            if s.localGoAway { return .refuse("GoAway sent") }
            if s.pendingInbound.count >= configuration.maxPendingInboundStreams {
                return .refuse("accept backlog of \(s.pendingInbound.count) full")
            }
            if s.streams.count >= configuration.maxConcurrentStreams {
                return .refuse("\(s.streams.count) streams open")
            }
            let stream = YamuxStream(id: id, outbound: false, session: self)
            s.streams[id] = stream
            if !s.acceptWaiters.isEmpty {
                return .accept(stream, s.acceptWaiters.removeFirst().continuation)
            }
            s.pendingInbound.append(stream)
            return .accept(stream, nil)
        }
        switch outcome {
        case .ignore:
            return nil
        case .refuse(let reason):
            logger.debug("yamux: resetting inbound stream \(id): \(reason)")
            try enqueueControlOrFail(YamuxFrameHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0))
            return nil
        case .accept(let stream, let waiter):
            waiter?.resume(returning: stream)
            return stream
        }
    }

    private func pongReceived(_ id: UInt32) {
        let ping = shared.withLock { $0.pings.removeValue(forKey: id) }
        guard let ping else { return }
        let rtt = ContinuousClock.now - ping.start
        let (seconds, attoseconds) = rtt.components
        rttNanoseconds.store(max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000), ordering: .relaxed)
        ping.continuation.resume(returning: rtt)
    }

    /// Queues a control frame for the writer task; `false` when the queue is full or finished.
    private func enqueueControl(_ header: YamuxFrameHeader) -> Bool {
        if case .enqueued = controlSink.yield(header.encoded()) { return true }
        return false
    }

    /// Queues a control frame in reply to the peer; a full queue means the peer sends without
    /// reading our replies, which ends the session. A finished queue (session ending) drops it.
    private func enqueueControlOrFail(_ header: YamuxFrameHeader) throws {
        if case .dropped = controlSink.yield(header.encoded()) {
            throw LibP2PError(.limitExceeded, "yamux: peer sends control frames without reading the replies")
        }
    }

    private func keepAlive(every interval: Duration) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            let answered = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await self.ping()) != nil }
                group.addTask {
                    (try? await Task.sleep(for: self.configuration.keepAliveTimeout)) == nil && !Task.isCancelled
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            guard answered || Task.isCancelled else {
                logger.warning("yamux: keepalive ping unanswered for \(configuration.keepAliveTimeout), closing")
                await close()
                return
            }
        }
    }

    /// Marks the session ended (once) and fails everything waiting on it.
    private func end(with error: LibP2PError) {
        let taken = shared.withLock { s -> (streams: [YamuxStream], waiters: [CheckedContinuation<YamuxStream, any Error>], pings: [PendingPing])? in
            guard s.ended == nil else { return nil }
            s.ended = error
            var streams = Array(s.streams.values)
            for stream in s.pendingInbound where s.streams[stream.id] !== stream { streams.append(stream) }
            s.streams.removeAll()
            s.pendingInbound.removeAll()
            defer { s.acceptWaiters.removeAll(); s.pings.removeAll() }
            return (streams, s.acceptWaiters.map(\.continuation), Array(s.pings.values))
        }
        controlSink.finish()
        guard let taken else { return }
        for stream in taken.streams { stream.sessionEnded(error) }
        for waiter in taken.waiters { waiter.resume(throwing: error) }
        for ping in taken.pings { ping.continuation.resume(throwing: error) }
    }
}
