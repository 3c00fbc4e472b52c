import Crypto
import LibP2P
import NIOCore
import Testing

/// `NoiseSecuredStream` over the in-memory `NoiseTestPipe`.
struct NoiseSecuredStreamTests {
    /// Transport cipher states from a real XX handshake: (initiator, responder).
    static func makeCipherPairs() throws -> (
        initiator: (send: NoiseCipherState, receive: NoiseCipherState),
        responder: (send: NoiseCipherState, receive: NoiseCipherState)
    ) {
        var initiator = NoiseXXHandshake(role: .initiator, staticKey: .init())
        var responder = NoiseXXHandshake(role: .responder, staticKey: .init())
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        _ = try initiator.readMessage(responder.writeMessage(payload: []))
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        return (try initiator.split(), try responder.split())
    }

    /// Two secured streams over a pipe whose reads come in `readChunkSizes` pieces.
    static func makeStreams(
        readChunkSizes: [Int] = [Int.max],
        suspendsInWrite: Bool = false
    ) throws -> (NoiseSecuredStream, NoiseSecuredStream, NoiseTestPipe, NoiseTestPipe) {
        let (a, b) = NoiseTestPipe.makePair(readChunkSizes: readChunkSizes, suspendsInWrite: suspendsInWrite)
        let ciphers = try makeCipherPairs()
        let left = NoiseSecuredStream(underlying: a, send: ciphers.initiator.send, receive: ciphers.initiator.receive, bufferedInput: ByteBuffer())
        let right = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: ByteBuffer())
        return (left, right, a, b)
    }

    static func readAll(_ stream: some ByteStream) async throws -> ByteBuffer {
        var all = ByteBuffer()
        while var chunk = try await stream.read() { all.writeBuffer(&chunk) }
        return all
    }

    static func randomBytes(_ count: Int) -> ByteBuffer {
        var generator = SystemRandomNumberGenerator()
        return ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func expectCode(_ code: LibP2PError.Code, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code), got no error")
        } catch let error as LibP2PError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("expected LibP2PError \(code), got \(error)")
        }
    }

    @Test(arguments: [[Int.max], [1, 7, 65537, 3, 100_003], [2], [65535, 65539, 17]])
    func oneMebibyteRoundTrip(_ readChunkSizes: [Int]) async throws {
        let (left, right, leftPipe, _) = try Self.makeStreams(readChunkSizes: readChunkSizes)
        let payload = Self.randomBytes(1 << 20)
        try await left.write(payload)
        try await left.closeWrite()
        #expect(leftPipe.outgoing.writeCount == 1)  // all 17 frames in one underlying write
        #expect(try await Self.readAll(right) == payload)
        #expect(try await right.read() == nil)

        // The other direction still works after the half-close.
        try await right.write(ByteBuffer(string: "reply"))
        #expect(try await left.read() == ByteBuffer(string: "reply"))
    }

    @Test func severalFramesInOneReadComeBackTogether() async throws {
        let (left, right, _, _) = try Self.makeStreams()
        try await left.write(ByteBuffer(string: "one"))
        try await left.write(ByteBuffer(string: "two"))
        #expect(try await right.read() == ByteBuffer(string: "onetwo"))
    }

    @Test func bufferedInputIsDecryptedFirst() async throws {
        let (a, b) = NoiseTestPipe.makePair()
        var ciphers = try Self.makeCipherPairs()
        var early = ByteBuffer()
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "early"), with: &ciphers.initiator.send, into: &early)
        // Half a frame was already read during the handshake; the rest is still in the pipe.
        let firstHalf = early.getSlice(at: 0, length: 5)!
        let secondHalf = early.getSlice(at: 5, length: early.readableBytes - 5)!
        let sender = NoiseSecuredStream(underlying: a, send: ciphers.initiator.send, receive: ciphers.initiator.receive, bufferedInput: ByteBuffer())
        let receiver = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: firstHalf)
        try await a.write(secondHalf)
        try await sender.write(ByteBuffer(string: " late"))
        try await sender.closeWrite()
        #expect(try await Self.readAll(receiver) == ByteBuffer(string: "early late"))
    }

    @Test func concurrentWritersDoNotInterleave() async throws {
        let (left, right, _, _) = try Self.makeStreams(readChunkSizes: [4093, 65536, 1], suspendsInWrite: true)
        let writers = 8
        let writesPerWriter = 6
        // Each record: writer (1 byte), sequence (1 byte), length (u32), then the same byte repeated.
        // Records larger than one frame would be corrupted by any interleaving.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for sequence in 0..<writesPerWriter {
                        let length = 1000 + (writer * 37_171 + sequence * 29_989) % 150_000
                        var record = ByteBuffer()
                        record.writeInteger(UInt8(writer))
                        record.writeInteger(UInt8(sequence))
                        record.writeInteger(UInt32(length))
                        record.writeRepeatingByte(UInt8(writer * 16 + sequence), count: length)
                        try await left.write(record)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await left.closeWrite()

        var received = try await Self.readAll(right)
        var nextSequence = [Int](repeating: 0, count: writers)
        while received.readableBytes > 0 {
            let headerBytes = received.readBytes(length: 6)
            let header = try #require(headerBytes)
            let writer = Int(header[0])
            let sequence = Int(header[1])
            let length = Int(header[2]) << 24 | Int(header[3]) << 16 | Int(header[4]) << 8 | Int(header[5])
            let bodyBytes = received.readBytes(length: length)
            let body = try #require(bodyBytes)
            #expect(writer < writers)
            #expect(sequence == nextSequence[writer], "writer \(writer) out of order")
            nextSequence[writer] += 1
            #expect(body.allSatisfy { $0 == UInt8(writer * 16 + sequence) }, "record \(writer).\(sequence) corrupted")
        }
        #expect(nextSequence == [Int](repeating: writesPerWriter, count: writers))
    }

    @Test func eofInsideAFrameThrowsUnexpectedEOF() async throws {
        let (a, b) = NoiseTestPipe.makePair()
        var ciphers = try Self.makeCipherPairs()
        var frames = ByteBuffer()
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "complete"), with: &ciphers.initiator.send, into: &frames)
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "cut short"), with: &ciphers.initiator.send, into: &frames)
        try await a.write(frames.getSlice(at: 0, length: frames.readableBytes - 3)!)
        try await a.closeWrite()
        let receiver = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: ByteBuffer())
        #expect(try await receiver.read() == ByteBuffer(string: "complete"))
        await Self.expectCode(.unexpectedEOF) { _ = try await receiver.read() }
        await Self.expectCode(.unexpectedEOF) { _ = try await receiver.read() }
    }

    @Test func eofInsideTheLengthPrefixThrowsUnexpectedEOF() async throws {
        let (a, b) = NoiseTestPipe.makePair()
        let ciphers = try Self.makeCipherPairs()
        try await a.write(ByteBuffer(bytes: [0]))
        try await a.closeWrite()
        let receiver = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: ByteBuffer())
        await Self.expectCode(.unexpectedEOF) { _ = try await receiver.read() }
    }

    @Test func tamperedFrameThrowsDecryptionFailed() async throws {
        let (a, b) = NoiseTestPipe.makePair(readChunkSizes: [3])
        var ciphers = try Self.makeCipherPairs()
        var frames = ByteBuffer()
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "secret"), with: &ciphers.initiator.send, into: &frames)
        frames.setInteger(frames.getInteger(at: frames.writerIndex - 1, as: UInt8.self)! ^ 1, at: frames.writerIndex - 1)
        try await a.write(frames)
        let receiver = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: ByteBuffer())
        await Self.expectCode(.decryptionFailed) { _ = try await receiver.read() }
        await Self.expectCode(.decryptionFailed) { _ = try await receiver.read() }
    }

    @Test func framesReplayedOrReorderedFailAuthentication() async throws {
        let (a, b) = NoiseTestPipe.makePair()
        var ciphers = try Self.makeCipherPairs()
        var first = ByteBuffer()
        var second = ByteBuffer()
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "first"), with: &ciphers.initiator.send, into: &first)
        try NoiseFrameCodec.sealFrames(ByteBuffer(string: "second"), with: &ciphers.initiator.send, into: &second)
        try await a.write(second)
        let receiver = NoiseSecuredStream(underlying: b, send: ciphers.responder.send, receive: ciphers.responder.receive, bufferedInput: ByteBuffer())
        await Self.expectCode(.decryptionFailed) { _ = try await receiver.read() }
    }

    @Test func writesAfterCloseWriteOrCloseThrow() async throws {
        let (left, right, _, _) = try Self.makeStreams()
        try await left.closeWrite()
        await Self.expectCode(.closed) { try await left.write(ByteBuffer(string: "late")) }
        #expect(try await right.read() == nil)
        await right.close()
        await Self.expectCode(.closed) { try await right.write(ByteBuffer(string: "late")) }
        await Self.expectCode(.closed) { _ = try await right.read() }
    }

    @Test func underlyingWriteFailureBreaksTheStream() async throws {
        let (left, _, leftPipe, _) = try Self.makeStreams()
        await leftPipe.close()
        await #expect(throws: (any Error).self) { try await left.write(ByteBuffer(string: "x")) }
        // The nonce advanced without the bytes reaching the wire, so the stream stays broken.
        await Self.expectCode(.streamReset) { try await left.write(ByteBuffer(string: "y")) }
    }
}
