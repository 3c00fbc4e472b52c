import NIOCore

/// The libp2p Ping protocol (libp2p specs ping/ping.md): the dialer sends 32 random bytes and
/// the listener echoes them, repeatedly on one stream.
public enum Ping {
    /// The protocol id.
    public static let protocolID = "/ipfs/ping/1.0.0"
    /// The size of every ping payload.
    public static let payloadSize = 32

    /// Serves one inbound ping stream: echoes 32-byte payloads until the peer closes.
    /// The caller (the host) closes the stream afterwards.
    public static func serve(_ stream: BufferedByteStream) async throws {
        while true {
            let payload: ByteBuffer
            do {
                payload = try await stream.readExactly(payloadSize)
            } catch let error as LibP2PError where error.code == .unexpectedEOF {
                try? await stream.closeWrite()
                return
            }
            try await stream.write(payload)
        }
    }

    /// Sends one ping on `stream` and returns the round-trip time.
    /// Throws `.malformedInput` if the echo differs from what was sent.
    public static func ping(on stream: BufferedByteStream, clock: ContinuousClock = ContinuousClock()) async throws -> Duration {
        var generator = SystemRandomNumberGenerator()
        let payload = (0..<payloadSize).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let start = clock.now
        try await stream.write(ByteBuffer(bytes: payload))
        let echo = try await stream.readExactly(payloadSize)
        let elapsed = clock.now - start
        guard echo.getBytes(at: echo.readerIndex, length: payloadSize) == payload else {
            throw LibP2PError(.malformedInput, "ping echo does not match the payload sent")
        }
        return elapsed
    }
}
