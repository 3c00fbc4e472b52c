import NIOCore
import Synchronization
import Testing

@testable import LibP2P

/// Two-session tests over an ``InMemoryByteStream`` pair (bounded, arbitrarily re-chunked).
@Suite(.timeLimit(.minutes(1))) struct YamuxSessionTests {
    static var testConfiguration: YamuxConfiguration {
        var configuration = YamuxConfiguration()
        configuration.keepAliveInterval = nil
        return configuration
    }

    /// Runs a client and a server session for the duration of `body`, then closes both.
    func withSessions(
        configuration: YamuxConfiguration = testConfiguration,
        pipe: (InMemoryByteStream, InMemoryByteStream) = InMemoryByteStream.makePair(),
        _ body: @Sendable (_ client: YamuxSession, _ server: YamuxSession) async throws -> Void
    ) async throws {
        let (a, b) = pipe
        let client = YamuxSession(connection: a, isInitiator: true, configuration: configuration)
        let server = YamuxSession(connection: b, isInitiator: false, configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask { try await server.run() }
            do {
                try await body(client, server)
            } catch {
                await client.close()
                await server.close()
                throw error
            }
            await client.close()
            await server.close()
            try await group.waitForAll()
        }
    }

    @Test func openEchoAndHalfClose() async throws {
        try await withSessions { client, server in
            let stream = try await client.openStream()
            #expect(stream.id == 1)
            try await stream.write(ByteBuffer(string: "hello"))
            try await stream.closeWrite()
            await #expect(throws: LibP2PError.self) { try await stream.write(ByteBuffer(string: "late")) }

            let inbound = try await server.acceptStream()
            #expect(inbound.id == 1)
            #expect(try await readAll(inbound) == "hello")
            // Our side is still writable after the peer's FIN.
            try await inbound.write(ByteBuffer(string: "HELLO"))
            try await inbound.closeWrite()

            #expect(try await readAll(stream) == "HELLO")
            #expect(stream.state == .closed)
            try await eventually { client.streamCount == 0 && server.streamCount == 0 }

            let second = try await server.openStream()
            #expect(second.id == 2)
        }
    }

    @Test func framesSplitIntoTinyChunksOverATinyPipe() async throws {
        let payload = ByteBuffer(bytes: (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        try await withSessions(pipe: InMemoryByteStream.makePair(capacity: 1000, maxReadChunk: 17)) { client, server in
            async let echo: Void = {
                let inbound = try await server.acceptStream()
                while let chunk = try await inbound.read() { try await inbound.write(chunk) }
                try await inbound.closeWrite()
            }()
            let stream = try await client.openStream()
            async let echoed = readAllBytes(stream)
            try await stream.write(payload)
            try await stream.closeWrite()
            #expect(try await echoed == payload)
            try await echo
        }
    }

    @Test func resetFailsBothDirectionsAndFreesTheStream() async throws {
        try await withSessions { client, server in
            let stream = try await client.openStream()
            try await stream.write(ByteBuffer(string: "ping"))
            let inbound = try await server.acceptStream()
            #expect(try await inbound.read().map { String(buffer: $0) } == "ping")
            await inbound.close()
            await #expect(throws: LibP2PError.self) { try await inbound.read() }

            let error = await #expect(throws: LibP2PError.self) { try await stream.read() }
            #expect(error?.code == .streamReset)
            await #expect(throws: LibP2PError.self) { try await stream.write(ByteBuffer(string: "x")) }
            try await eventually { client.streamCount == 0 && server.streamCount == 0 }
        }
    }

    @Test func manyConcurrentStreamsKeepTheirDataApart() async throws {
        let streamCount = 64
        let size = 200_000
        try await withSessions { client, server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await withThrowingTaskGroup(of: Void.self) { echoes in
                        for _ in 0..<streamCount {
                            let inbound = try await server.acceptStream()
                            echoes.addTask {
                                while let chunk = try await inbound.read() { try await inbound.write(chunk) }
                                try await inbound.closeWrite()
                            }
                        }
                        try await echoes.waitForAll()
                    }
                }
                for index in 0..<streamCount {
                    group.addTask {
                        let stream = try await client.openStream()
                        let payload = ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) })
                        async let echoed = readAllBytes(stream)
                        try await stream.write(payload)
                        try await stream.closeWrite()
                        #expect(try await echoed == payload)
                    }
                }
                try await group.waitForAll()
            }
            try await eventually { client.streamCount == 0 && server.streamCount == 0 }
        }
    }

    @Test func sixtyFourMebibytesOnOneStreamGrowTheWindow() async throws {
        let block = 1 << 20
        let blocks = 64
        let base = ByteBuffer(bytes: (0..<block).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) })
        @Sendable func expectedBlock(_ index: Int) -> ByteBuffer {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(block)
            buffer.writeImmutableBuffer(base)
            buffer.setInteger(UInt64(index), at: 0)
            return buffer
        }
        try await withSessions { client, server in
            let stream = try await client.openStream()
            let started = ContinuousClock.now
            async let sent: Void = {
                for index in 0..<blocks { try await stream.write(expectedBlock(index)) }
                try await stream.closeWrite()
            }()
            let inbound = try await server.acceptStream()
            var received = 0
            var expected = expectedBlock(0)
            var mismatch = false
            while var chunk = try await inbound.read() {
                while chunk.readableBytes > 0 {
                    if expected.readableBytes == 0 { expected = expectedBlock((received) / block) }
                    let count = min(chunk.readableBytes, expected.readableBytes)
                    if chunk.readSlice(length: count) != expected.readSlice(length: count) { mismatch = true }
                    received += count
                }
            }
            try await sent
            let elapsed = ContinuousClock.now - started
            #expect(!mismatch)
            #expect(received == block * blocks)
            #expect(inbound.receiveWindow > YamuxConfiguration.initialStreamWindow)
            print("yamux: 64 MiB on one stream (debug build, in-memory pipe) in \(elapsed), window \(inbound.receiveWindow)")
        }
    }

    @Test func slowReaderBlocksTheSenderAtTheWindow() async throws {
        let total = 1 << 20
        try await withSessions { client, server in
            let stream = try await client.openStream()
            let finished = Flag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await stream.write(ByteBuffer(repeating: 0xAB, count: total))
                    finished.set()
                }
                let inbound = try await server.acceptStream()
                let window = Int(YamuxConfiguration.initialStreamWindow)
                try await eventually { inbound.bufferedBytes == window && stream.sendWindow == 0 }
                // Nothing more than one window is in flight while the reader does not read.
                for _ in 0..<1000 { await Task.yield() }
                #expect(inbound.bufferedBytes == window)
                #expect(stream.sendWindow == 0)
                let finishedEarly = finished.isSet
                #expect(!finishedEarly)

                var received = 0
                while received < total, let chunk = try await inbound.read() { received += chunk.readableBytes }
                #expect(received == total)
                try await group.waitForAll()
                let finishedLate = finished.isSet
                #expect(finishedLate)
            }
        }
    }

    @Test func pingMeasuresTheRoundTrip() async throws {
        try await withSessions { client, server in
            let rtt = try await client.ping()
            #expect(rtt > .zero)
            #expect(client.currentRTT != nil)
            #expect(try await server.ping() > .zero)
        }
    }

    @Test func goAwayStopsNewStreamsButNotExistingOnes() async throws {
        try await withSessions { client, server in
            let stream = try await client.openStream()
            let inbound = try await server.acceptStream()
            await server.goAway()
            try await eventually { client.peerSentGoAway }
            let error = await #expect(throws: LibP2PError.self) { try await client.openStream() }
            #expect(error?.code == .closed)
            try await stream.write(ByteBuffer(string: "still here"))
            try await stream.closeWrite()
            #expect(try await readAll(inbound) == "still here")
        }
    }

    @Test func sessionCloseFailsStreams() async throws {
        let (a, b) = InMemoryByteStream.makePair()
        let client = YamuxSession(connection: a, isInitiator: true, configuration: Self.testConfiguration)
        let server = YamuxSession(connection: b, isInitiator: false, configuration: Self.testConfiguration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            group.addTask { try await server.run() }
            let stream = try await client.openStream()
            let inbound = try await server.acceptStream()
            let pendingRead = Task { try await inbound.read() }
            await client.close()
            await #expect(throws: LibP2PError.self) { try await pendingRead.value }
            await #expect(throws: LibP2PError.self) { try await stream.write(ByteBuffer(string: "x")) }
            await #expect(throws: LibP2PError.self) { try await client.openStream() }
            try await group.waitForAll()
            #expect(client.streamCount == 0 && server.streamCount == 0)
        }
    }
}

extension YamuxSessionTests {
    @Test func cancellingRunClosesTheSession() async throws {
        let (a, b) = InMemoryByteStream.makePair()
        let client = YamuxSession(connection: a, isInitiator: true, configuration: Self.testConfiguration)
        let server = YamuxSession(connection: b, isInitiator: false, configuration: Self.testConfiguration)
        let clientRun = Task { try await client.run() }
        let serverRun = Task { try await server.run() }
        let stream = try await client.openStream()
        let inbound = try await server.acceptStream()
        clientRun.cancel()
        try await clientRun.value
        await #expect(throws: LibP2PError.self) { try await stream.read() }
        await #expect(throws: LibP2PError.self) { try await inbound.read() }
        try await serverRun.value
    }
}

// MARK: Raw-peer tests: one session against hand-written frames.

@Suite(.timeLimit(.minutes(1))) struct YamuxSessionProtocolTests {
    /// A server session and the raw connection end a test drives by hand (as the initiator).
    static var rawPeerConfiguration: YamuxConfiguration {
        var configuration = YamuxConfiguration()
        configuration.keepAliveInterval = nil
        configuration.measuresRTTAtStart = false
        return configuration
    }

    func withRawPeer(
        configuration: YamuxConfiguration = rawPeerConfiguration,
        _ body: @Sendable (_ raw: InMemoryByteStream, _ server: YamuxSession, _ run: Task<Void, any Error>) async throws -> Void
    ) async throws {
        let (raw, b) = InMemoryByteStream.makePair()
        let server = YamuxSession(connection: b, isInitiator: false, configuration: configuration)
        let run = Task { try await server.run() }
        do {
            try await body(raw, server, run)
        } catch {
            await server.close()
            throw error
        }
        await server.close()
        _ = await run.result
    }

    @Test func answersPingWithTheSameValue() async throws {
        try await withRawPeer { raw, _, _ in
            try await raw.write(YamuxFrameHeader(type: .ping, flags: .syn, streamID: 0, length: 0xCAFE).encoded())
            var reader = FrameReader(raw)
            let pong = try #require(try await reader.next())
            #expect(pong.header == YamuxFrameHeader(type: .ping, flags: .ack, streamID: 0, length: 0xCAFE))
        }
    }

    @Test func keepaliveClosesASessionWhosePeerStopsAnsweringPings() async throws {
        var configuration = Self.rawPeerConfiguration
        configuration.keepAliveInterval = .milliseconds(20)
        configuration.keepAliveTimeout = .milliseconds(100)
        try await withRawPeer(configuration: configuration) { raw, server, run in
            var reader = FrameReader(raw)
            let ping = try #require(try await reader.next())
            #expect(ping.header.type == .ping && ping.header.flags == .syn)
            // We never answer: the session gives up and closes the connection.
            while try await reader.next() != nil {}
            try await run.value
            await #expect(throws: LibP2PError.self) { try await server.openStream() }
        }
    }

    @Test func dataFrameWithSYNOpensAStream() async throws {
        try await withRawPeer { raw, server, _ in
            var frame = YamuxFrameHeader(type: .data, flags: [.syn, .fin], streamID: 1, length: 2).encoded()
            frame.writeString("hi")
            try await raw.write(frame)
            let stream = try await server.acceptStream()
            #expect(try await readAll(stream) == "hi")
            try await stream.write(ByteBuffer(string: "yo"))
            var reader = FrameReader(raw)
            let ack = try #require(try await reader.next())
            #expect(ack.header == YamuxFrameHeader(type: .windowUpdate, flags: .ack, streamID: 1, length: 0))
            let data = try #require(try await reader.next())
            #expect(data.header == YamuxFrameHeader(type: .data, streamID: 1, length: 2))
            #expect(String(buffer: data.payload) == "yo")
        }
    }

    @Test func resetsTheStreamBeyondTheAcceptBacklog() async throws {
        try await withRawPeer { raw, server, _ in
            let backlog = YamuxConfiguration.defaultMaxPendingInboundStreams
            var frames = ByteBuffer()
            for index in 0...backlog {
                YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: UInt32(2 * index + 1), length: 0)
                    .encode(into: &frames)
            }
            try await raw.write(frames)
            var reader = FrameReader(raw)
            let reset = try #require(try await reader.next())
            #expect(reset.header.flags.contains(.rst))
            #expect(reset.header.streamID == UInt32(2 * backlog + 1))
            for index in 0..<backlog {
                #expect(try await server.acceptStream().id == UInt32(2 * index + 1))
                let ack = try #require(try await reader.next())
                #expect(ack.header == YamuxFrameHeader(type: .windowUpdate, flags: .ack, streamID: UInt32(2 * index + 1), length: 0))
            }
        }
    }

    @Test func wrongParitySYNEndsTheSessionWithGoAway() async throws {
        try await expectProtocolError(
            YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: 2, length: 0).encoded())
    }

    @Test func duplicateSYNEndsTheSessionWithGoAway() async throws {
        var frames = YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded()
        YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encode(into: &frames)
        try await expectProtocolError(frames)
    }

    @Test func dataBeyondTheWindowEndsTheSessionWithGoAway() async throws {
        let length = Int(YamuxConfiguration.initialStreamWindow) + 1
        var frames = YamuxFrameHeader(type: .windowUpdate, flags: .syn, streamID: 1, length: 0).encoded()
        YamuxFrameHeader(type: .data, streamID: 1, length: UInt32(length)).encode(into: &frames)
        frames.writeRepeatingByte(0, count: length)
        try await expectProtocolError(frames)
    }

    @Test func oversizedOrGarbageFramesEndTheSessionWithGoAway() async throws {
        try await expectProtocolError(
            YamuxFrameHeader(type: .data, streamID: 1, length: YamuxConfiguration.maxStreamWindow + 1).encoded())
        try await expectProtocolError(ByteBuffer(bytes: [0, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))
        try await expectProtocolError(ByteBuffer(bytes: [7, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))
    }

    @Test func framesForUnknownStreamsAreIgnored() async throws {
        try await withRawPeer { raw, _, _ in
            var frames = YamuxFrameHeader(type: .data, streamID: 41, length: 3).encoded()
            frames.writeString("abc")
            YamuxFrameHeader(type: .windowUpdate, flags: .rst, streamID: 43, length: 0).encode(into: &frames)
            YamuxFrameHeader(type: .ping, flags: .syn, streamID: 0, length: 7).encode(into: &frames)
            try await raw.write(frames)
            var reader = FrameReader(raw)
            #expect(try await reader.next()?.header == YamuxFrameHeader(type: .ping, flags: .ack, streamID: 0, length: 7))
        }
    }

    func expectProtocolError(_ frames: ByteBuffer) async throws {
        try await withRawPeer { raw, _, run in
            try await raw.write(frames)
            var reader = FrameReader(raw)
            var goAway: YamuxFrameHeader?
            while let frame = try await reader.next() {
                if frame.header.type == .goAway { goAway = frame.header }
            }
            #expect(goAway == YamuxFrameHeader(type: .goAway, streamID: 0, length: YamuxFrameHeader.GoAwayCode.protocolError.rawValue))
            await #expect(throws: LibP2PError.self) { try await run.value }
        }
    }
}

// MARK: Helpers

private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
}

/// Reads whole frames from a raw connection end.
private struct FrameReader {
    let connection: any ByteStream
    var buffer = ByteBuffer()

    init(_ connection: any ByteStream) { self.connection = connection }

    mutating func next() async throws -> (header: YamuxFrameHeader, payload: ByteBuffer)? {
        while true {
            var cursor = buffer
            if let header = try YamuxFrameHeader(parsing: &cursor) {
                let length = header.type == .data ? Int(header.length) : 0
                if let payload = cursor.readSlice(length: length) {
                    buffer = cursor
                    return (header, payload)
                }
            }
            guard var chunk = try await connection.read() else { return nil }
            buffer.writeBuffer(&chunk)
        }
    }
}

private func readAllBytes(_ stream: some ByteStream) async throws -> ByteBuffer {
    var all = ByteBuffer()
    while var chunk = try await stream.read() { all.writeBuffer(&chunk) }
    return all
}

private func readAll(_ stream: some ByteStream) async throws -> String {
    String(buffer: try await readAllBytes(stream))
}

/// Waits until `condition` holds, yielding in between; fails after 10 s.
private func eventually(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
            throw LibP2PError(.timeout, "condition not met")
        }
        await Task.yield()
    }
}
