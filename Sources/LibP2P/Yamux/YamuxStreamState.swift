/// The state of one Yamux stream: open/close handshake and both flow-control windows.
///
/// A value type with throwing transitions; ``YamuxStream`` glues it to tasks.
/// Spec: hashicorp/yamux `spec.md` "Stream Establishment", "Stream Close", "Flow Control";
/// window auto-tuning as go-yamux v4 `stream.go` `sendWindowUpdate` and `util.go` `GrowTo`.
public struct YamuxStreamState: Sendable {
    /// Where the stream is in its lifetime (spec.md "Stream Establishment" and "Stream Close").
    public enum State: Hashable, Sendable {
        /// We sent SYN and have no ACK yet. Data may already flow both ways.
        case synSent
        /// The peer sent SYN and we have not sent ACK yet.
        case synReceived
        /// Both sides opened; both directions open.
        case established
        /// We sent FIN; the peer may still send.
        case localClosed
        /// The peer sent FIN; we may still send.
        case remoteClosed
        /// Both sides sent FIN.
        case closed
        /// RST sent or received, or the session ended under the stream.
        case reset
    }

    /// A window update to send: the credit to grant and the flags to carry with it.
    public struct WindowUpdate: Hashable, Sendable {
        /// Bytes of new credit for the peer.
        public var delta: UInt32
        /// ACK if this is the first frame we send on an inbound stream.
        public var flags: YamuxFrameHeader.Flags
    }

    /// The current state.
    public private(set) var state: State
    /// Bytes we may still send before the peer grants more.
    public private(set) var sendWindow: UInt32
    /// Our receive window: credit plus unread bytes is topped up to this value. Starts at
    /// ``YamuxConfiguration/initialStreamWindow``, doubles under auto-tuning up to `maxWindow`.
    public private(set) var receiveWindow: UInt32
    /// Bytes the peer may still send before we grant more.
    public private(set) var receiveCredit: UInt32
    /// Bytes received and not yet consumed by the reader.
    public private(set) var bufferedBytes: Int = 0
    /// Whether the ACK for an inbound stream is still to be sent.
    public private(set) var ackPending: Bool
    /// The upper bound for auto-tuning.
    public let maxWindow: UInt32

    /// When we last granted credit (go: `epochStart`).
    private var lastWindowUpdate: ContinuousClock.Instant
    /// The peer used up all credit since the last update (window was the bottleneck).
    private var creditExhausted = false
    /// The reader found nothing to read since the last update (the reader is not the bottleneck).
    private var readerStarved = false

    /// Creates the state of a stream we open (SYN sent) or the peer opened (SYN received).
    public init(
        outbound: Bool,
        initialWindow: UInt32 = YamuxConfiguration.initialStreamWindow,
        maxWindow: UInt32 = YamuxConfiguration.maxStreamWindow,
        now: ContinuousClock.Instant = .now
    ) {
        state = outbound ? .synSent : .synReceived
        ackPending = !outbound
        sendWindow = initialWindow
        receiveWindow = initialWindow
        receiveCredit = initialWindow
        self.maxWindow = max(maxWindow, initialWindow)
        lastWindowUpdate = now
    }

    /// Whether the stream is finished (both FINs, or reset) and can leave the session table.
    public var isTerminal: Bool { state == .closed || state == .reset }

    /// Whether the peer has finished sending (FIN or reset).
    public var isRemoteDone: Bool { state == .remoteClosed || state == .closed || state == .reset }

    // MARK: Receiving

    /// Applies the ACK and FIN flags of a frame from the peer (RST goes to ``receiveReset()``).
    /// A FIN after the peer already closed is ignored.
    public mutating func receive(flags: YamuxFrameHeader.Flags) {
        if flags.contains(.ack), state == .synSent { state = .established }
        if flags.contains(.fin) {
            switch state {
            case .synSent, .synReceived, .established: state = .remoteClosed
            case .localClosed: state = .closed
            case .remoteClosed, .closed, .reset: break
            }
        }
    }

    /// The peer reset the stream. Returns whether the state changed.
    @discardableResult
    public mutating func receiveReset() -> Bool {
        guard state != .reset else { return false }
        state = .reset
        return true
    }

    /// Accounts `count` received payload bytes. Returns whether the reader should get them
    /// (`false` once the peer closed or the stream was reset: late data is dropped).
    ///
    /// - Throws: a protocol error when `count` exceeds the credit we granted (spec.md "Flow
    ///   Control": the sender must not exceed the window).
    public mutating func receiveData(count: Int) throws -> Bool {
        guard count <= Int(receiveCredit) else {
            throw LibP2PError(.malformedInput, "yamux: \(count) bytes exceed the receive window of \(receiveCredit)")
        }
        receiveCredit -= UInt32(count)
        if receiveCredit == 0 { creditExhausted = true }
        guard !isRemoteDone else { return false }
        bufferedBytes += count
        return true
    }

    /// The peer granted `delta` more bytes of send window.
    ///
    /// - Throws: a protocol error when the window would exceed 2³²−1.
    public mutating func receiveWindowUpdate(delta: UInt32) throws {
        let (sum, overflow) = sendWindow.addingReportingOverflow(delta)
        guard !overflow else { throw LibP2PError(.malformedInput, "yamux: send window overflow") }
        sendWindow = sum
    }

    // MARK: Reading

    /// The reader found the buffer empty and waits (input to the auto-tuning heuristic).
    public mutating func readerWillWait() { readerStarved = true }

    /// The reader consumed `count` bytes. Returns the window update to send, if due: once half the
    /// receive window is free (go `GrowTo`), or at once when an ACK is pending.
    ///
    /// Auto-tuning (go-yamux `sendWindowUpdate`): when the previous update went out less than 4×RTT
    /// ago the window doubles, up to `maxWindow`. Because an RTT sampled on an idle link says little
    /// about a busy one, the window also doubles when, since the previous update, the peer used up
    /// all credit while our reader sat waiting for data: the window, not the reader, was the limit.
    public mutating func consume(count: Int, now: ContinuousClock.Instant, rtt: Duration?) -> WindowUpdate? {
        bufferedBytes -= count
        precondition(bufferedBytes >= 0, "yamux: consumed more than was buffered")
        return windowUpdateIfDue(now: now, rtt: rtt, force: false)
    }

    /// The window update that carries a pending ACK (sent when an inbound stream is accepted).
    public mutating func acknowledge(now: ContinuousClock.Instant, rtt: Duration?) -> WindowUpdate? {
        guard ackPending else { return nil }
        return windowUpdateIfDue(now: now, rtt: rtt, force: true)
    }

    private mutating func windowUpdateIfDue(now: ContinuousClock.Instant, rtt: Duration?, force: Bool) -> WindowUpdate? {
        guard !isRemoteDone || ackPending else { return nil }
        let force = force || ackPending
        let current = UInt64(receiveCredit) + UInt64(bufferedBytes)
        var delta: UInt32 = current >= UInt64(receiveWindow) ? 0 : receiveWindow - UInt32(current)
        guard force || delta >= receiveWindow / 2 else { return nil }
        if delta > 0 {
            let sinceLast = now - lastWindowUpdate
            let fastByRTT = rtt.map { $0 > .zero && sinceLast < $0 * 4 } ?? false
            let windowLimited = creditExhausted && readerStarved
            if !ackPending, fastByRTT || windowLimited, receiveWindow < maxWindow {
                receiveWindow = UInt32(min(UInt64(receiveWindow) * 2, UInt64(maxWindow)))
                delta = receiveWindow - UInt32(current)
            }
        }
        lastWindowUpdate = now
        creditExhausted = false
        readerStarved = false
        receiveCredit += delta
        var flags: YamuxFrameHeader.Flags = []
        if ackPending {
            flags.insert(.ack)
            ackPending = false
            if state == .synReceived { state = .established }
        }
        return WindowUpdate(delta: delta, flags: flags)
    }

    // MARK: Writing

    /// Takes up to `limit` bytes of send window. Returns 0 when the window is empty (wait for an
    /// update), and the flags the frame must carry (ACK if still pending).
    ///
    /// - Throws: `closed` after our FIN, `streamReset` after a reset.
    public mutating func reserveSend(limit: Int) throws -> (count: Int, flags: YamuxFrameHeader.Flags) {
        switch state {
        case .reset: throw LibP2PError(.streamReset, "yamux: stream reset")
        case .localClosed, .closed: throw LibP2PError(.closed, "yamux: stream closed for writing")
        case .synSent, .synReceived, .established, .remoteClosed: break
        }
        let count = min(Int(sendWindow), limit)
        guard count > 0 else { return (0, []) }
        sendWindow -= UInt32(count)
        return (count, takeAck())
    }

    /// We half-close (FIN). Returns the flags to send, or `nil` when FIN was already sent.
    ///
    /// - Throws: `streamReset` after a reset.
    public mutating func closeWrite() throws -> YamuxFrameHeader.Flags? {
        switch state {
        case .reset: throw LibP2PError(.streamReset, "yamux: stream reset")
        case .localClosed, .closed: return nil
        case .synSent, .synReceived, .established: state = .localClosed
        case .remoteClosed: state = .closed
        }
        return takeAck().union(.fin)
    }

    /// We abort the stream. Returns whether an RST must be sent (not when already closed or reset).
    public mutating func reset() -> Bool {
        guard !isTerminal else { return false }
        state = .reset
        return true
    }

    /// The session ended: a stream whose peer already finished keeps its unread data (reads drain,
    /// then EOF); any other stream is reset.
    public mutating func sessionEnded() {
        switch state {
        case .remoteClosed, .closed: state = .closed
        case .synSent, .synReceived, .established, .localClosed, .reset: state = .reset
        }
    }

    private mutating func takeAck() -> YamuxFrameHeader.Flags {
        guard ackPending else { return [] }
        ackPending = false
        if state == .synReceived { state = .established }
        return .ack
    }
}
