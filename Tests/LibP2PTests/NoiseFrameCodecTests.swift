import Crypto
import LibP2P
import NIOCore
import Testing

/// The `u16 length ‖ message` framing and frame-level sealing.
struct NoiseFrameCodecTests {
    static func makeCiphers() -> (NoiseCipherState, NoiseCipherState) {
        let key = SymmetricKey(size: .bits256)
        return (NoiseCipherState(key: key), NoiseCipherState(key: key))
    }

    @Test func limitsMatchTheSpec() {
        #expect(NoiseFrameCodec.maxFrameLength == 65535)
        #expect(NoiseFrameCodec.maxPlaintextLength == 65519)
    }

    @Test func frameRoundTripAndPartialInput() throws {
        var wire = ByteBuffer()
        try NoiseFrameCodec.writeFrame([1, 2, 3], into: &wire)
        try NoiseFrameCodec.writeFrame([], into: &wire)
        #expect(Array(wire.readableBytesView) == [0, 3, 1, 2, 3, 0, 0])

        var partial = wire.getSlice(at: 0, length: 4)!
        #expect(NoiseFrameCodec.readFrame(from: &partial) == nil)
        #expect(partial.readableBytes == 4)  // untouched
        var oneByte = ByteBuffer(bytes: [0])
        #expect(NoiseFrameCodec.readFrame(from: &oneByte) == nil)

        #expect(NoiseFrameCodec.readFrame(from: &wire) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(NoiseFrameCodec.readFrame(from: &wire) == ByteBuffer())
        #expect(NoiseFrameCodec.readFrame(from: &wire) == nil)
    }

    @Test func oversizedFramesAreRejected() throws {
        var wire = ByteBuffer()
        try NoiseFrameCodec.writeFrame([UInt8](repeating: 1, count: 65535), into: &wire)
        #expect(wire.readableBytes == 65537)
        #expect(wire.getInteger(at: 0, as: UInt16.self) == 65535)
        do {
            try NoiseFrameCodec.writeFrame([UInt8](repeating: 1, count: 65536), into: &wire)
            Issue.record("oversized frame written")
        } catch let error as LibP2PError {
            #expect(error.code == .frameTooLarge)
        }
        #expect(throws: LibP2PError.self) {
            try NoiseFrameCodec.writeFrame(ByteBuffer(repeating: 0, count: 70000), into: &wire)
        }
    }

    @Test(arguments: [0, 1, 65518, 65519, 65520, 2 * 65519, 200_000])
    func sealFramesSplitsAt65519(_ length: Int) throws {
        var (sender, receiver) = Self.makeCiphers()
        let plaintext = ByteBuffer(bytes: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var wire = ByteBuffer()
        try NoiseFrameCodec.sealFrames(plaintext, with: &sender, into: &wire)
        let frameCount = (length + 65518) / 65519
        #expect(wire.readableBytes == length + frameCount * 18)
        #expect(sender.nonce == UInt64(frameCount))

        var frameLengths: [Int] = []
        var scan = wire
        while let frame = NoiseFrameCodec.readFrame(from: &scan) { frameLengths.append(frame.readableBytes) }
        #expect(frameLengths.allSatisfy { $0 <= 65535 })
        #expect(frameLengths.count == frameCount)

        var output = ByteBuffer()
        #expect(try NoiseFrameCodec.openFrames(from: &wire, with: &receiver, into: &output) == frameCount)
        #expect(output == plaintext)
        #expect(wire.readableBytes == 0)
    }

    @Test func openFramesRejectsTamperedAndTooShortFrames() throws {
        var (sender, receiver) = Self.makeCiphers()
        var wire = ByteBuffer()
        try NoiseFrameCodec.sealFrames(ByteBuffer(bytes: [1, 2, 3]), with: &sender, into: &wire)
        var tampered = wire
        tampered.setInteger(tampered.getInteger(at: 4, as: UInt8.self)! ^ 0xff, at: 4)
        var output = ByteBuffer()
        var receiverCopy = receiver
        #expect(throws: LibP2PError.self) {
            try NoiseFrameCodec.openFrames(from: &tampered, with: &receiverCopy, into: &output)
        }
        var tooShort = ByteBuffer(bytes: [0, 15] + [UInt8](repeating: 0, count: 15))
        do {
            try NoiseFrameCodec.openFrames(from: &tooShort, with: &receiver, into: &output)
            Issue.record("15-byte frame accepted")
        } catch let error as LibP2PError {
            #expect(error.code == .decryptionFailed)
        }
    }
}
