import Testing

@testable import LibP2P

@Suite struct YamuxStreamStateTests {
    let window = YamuxConfiguration.initialStreamWindow
    let start = ContinuousClock.now

    @Test func grantsCreditOnlyAfterHalfTheWindowIsRead() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        let delivered = try state.receiveData(count: Int(window))
        #expect(delivered)
        #expect(state.receiveCredit == 0)
        // Data arriving is not enough: credit follows what the reader consumed.
        let early = state.consume(count: Int(window / 2) - 1, now: start + .seconds(10), rtt: nil)
        #expect(early == nil)
        let halfway = state.consume(count: 1, now: start + .seconds(10), rtt: nil)
        let update = try #require(halfway)
        #expect(update.delta == window / 2)
        #expect(update.flags == [])
        #expect(state.receiveWindow == window)
        #expect(state.receiveCredit == window / 2)
    }

    @Test func dataBeyondTheWindowIsAProtocolError() throws {
        var state = YamuxStreamState(outbound: false, now: start)
        #expect(throws: LibP2PError.self) { try state.receiveData(count: Int(window) + 1) }
        _ = try state.receiveData(count: 1000)
        #expect(throws: LibP2PError.self) { try state.receiveData(count: Int(window) - 999) }
    }

    @Test func doublesTheWindowWhenUpdatesComeFasterThanFourRTTs() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        _ = try state.receiveData(count: Int(window / 2))
        let fast = state.consume(count: Int(window / 2), now: start + .milliseconds(3), rtt: .milliseconds(1))
        #expect(state.receiveWindow == 2 * window)
        #expect(fast?.delta == window / 2 + window)
        // Slow updates (more than 4×RTT apart) keep the window.
        _ = try state.receiveData(count: Int(window))
        let slow = state.consume(count: Int(window), now: start + .seconds(1), rtt: .milliseconds(1))
        #expect(slow != nil)
        #expect(state.receiveWindow == 2 * window)
    }

    @Test func growsWhenTheWindowNotTheReaderIsTheLimitAndStopsAtTheMaximum() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        var now = start
        while state.receiveWindow < YamuxConfiguration.maxStreamWindow {
            let before = state.receiveWindow
            _ = try state.receiveData(count: Int(state.receiveCredit))
            state.readerWillWait()
            now += .seconds(1)
            let update = state.consume(count: state.bufferedBytes, now: now, rtt: nil)
            #expect(update != nil)
            #expect(state.receiveWindow == 2 * before)
        }
        _ = try state.receiveData(count: Int(state.receiveCredit))
        state.readerWillWait()
        _ = state.consume(count: state.bufferedBytes, now: now + .seconds(1), rtt: nil)
        #expect(state.receiveWindow == YamuxConfiguration.maxStreamWindow)
    }

    @Test func slowReaderDoesNotGrowTheWindow() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        _ = try state.receiveData(count: Int(window))
        let update = state.consume(count: Int(window), now: start + .seconds(1), rtt: nil)
        #expect(update?.delta == window)
        #expect(state.receiveWindow == window)
    }

    @Test func inboundStreamAcknowledgesOnceWithTheFirstFrame() throws {
        var state = YamuxStreamState(outbound: false, now: start)
        #expect(state.state == .synReceived)
        let ack = state.acknowledge(now: start, rtt: nil)
        #expect(ack == YamuxStreamState.WindowUpdate(delta: 0, flags: .ack))
        #expect(state.state == .established)
        let second = state.acknowledge(now: start, rtt: nil)
        #expect(second == nil)
        let reserved = try state.reserveSend(limit: 10)
        #expect(reserved.count == 10 && reserved.flags == [])
    }

    @Test func unacknowledgedInboundStreamCarriesACKOnItsFirstWrite() throws {
        var state = YamuxStreamState(outbound: false, now: start)
        let reserved = try state.reserveSend(limit: 10)
        #expect(reserved.flags == .ack)
        #expect(state.state == .established)
    }

    @Test func sendWindowLimitsWrites() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        let all = try state.reserveSend(limit: 1 << 30).count
        #expect(all == Int(window))
        let none = try state.reserveSend(limit: 1).count
        #expect(none == 0)
        try state.receiveWindowUpdate(delta: 10)
        let ten = try state.reserveSend(limit: 100).count
        #expect(ten == 10)
        try state.receiveWindowUpdate(delta: UInt32.max)
        #expect(throws: LibP2PError.self) { try state.receiveWindowUpdate(delta: 1) }
    }

    @Test func halfCloseThenClose() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        state.receive(flags: .ack)
        #expect(state.state == .established)
        let fin = try state.closeWrite()
        #expect(fin == .fin)
        #expect(state.state == .localClosed)
        let again = try state.closeWrite()
        #expect(again == nil)
        #expect(throws: LibP2PError.self) { try state.reserveSend(limit: 1) }
        let delivered = try state.receiveData(count: 5)
        #expect(delivered)
        state.receive(flags: .fin)
        #expect(state.state == .closed)
        #expect(state.isTerminal)
        let sendsReset = state.reset()
        #expect(!sendsReset)
    }

    @Test func remoteFinThenReset() throws {
        var state = YamuxStreamState(outbound: true, now: start)
        state.receive(flags: .fin)
        #expect(state.state == .remoteClosed)
        let delivered = try state.receiveData(count: 5)
        #expect(!delivered)
        let sendsReset = state.reset()
        #expect(sendsReset)
        #expect(state.state == .reset)
        #expect(throws: LibP2PError.self) { try state.reserveSend(limit: 1) }
        #expect(throws: LibP2PError.self) { try state.closeWrite() }
    }

    @Test func sessionEndKeepsFinishedReadSides() {
        var finished = YamuxStreamState(outbound: true, now: start)
        finished.receive(flags: .fin)
        finished.sessionEnded()
        #expect(finished.state == .closed)
        var open = YamuxStreamState(outbound: true, now: start)
        open.sessionEnded()
        #expect(open.state == .reset)
    }
}
