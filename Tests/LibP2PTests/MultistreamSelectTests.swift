import LibP2P
import NIOCore
import Testing

/// multistream-select 1.0.0 (libp2p specs connections/README.md) over an in-memory pipe.
@Suite struct MultistreamSelectTests {
    @Test func encodesTheSpecBytes() {
        var buffer = ByteBuffer()
        MultistreamMessage.header.encode(into: &buffer)
        MultistreamMessage("/noise").encode(into: &buffer)
        MultistreamMessage.notAvailable.encode(into: &buffer)
        let hex = buffer.readableBytesView.map { String(format: "%02x", $0) }.joined()
        #expect(hex == "13" + Array("/multistream/1.0.0\n".utf8).map { String(format: "%02x", $0) }.joined()
            + "072f6e6f6973650a" + "036e610a")
    }

    @Test func refusesBadMessages() {
        #expect(throws: LibP2PError.self) { try MultistreamMessage(parsing: ByteBuffer(string: "/noise")) }  // no newline
        #expect(throws: LibP2PError.self) { try MultistreamMessage(parsing: ByteBuffer(bytes: [0xff, 0xfe, 0x0a])) }  // not UTF-8
        #expect(throws: LibP2PError.self) {
            try MultistreamMessage(parsing: ByteBuffer(string: String(repeating: "a", count: 1024) + "\n"))
        }
        #expect(throws: LibP2PError.self) { try MultistreamMessage(parsing: ByteBuffer(string: "a\nb\n")) }
    }

    @Test func negotiatesAndHandsOnLeftoverBytes() async throws {
        let (dialer, listener) = InMemoryByteStream.makePair(maxReadChunk: 7)
        async let listened = MultistreamSelect.handle(on: listener, supports: { $0 == "/echo/1.0.0" })
        // The dialer proposes an unknown protocol first, then one the listener supports, and
        // sends application data right behind the proposal.
        let selected = try await MultistreamSelect.select(["/unknown/1.0.0", "/echo/1.0.0"], on: dialer)
        #expect(selected.protocolID == "/echo/1.0.0")
        try await selected.stream.write(ByteBuffer(string: "hello"))
        let accepted = try await listened
        #expect(accepted.protocolID == "/echo/1.0.0")
        let data = try await accepted.stream.readExactly(5)
        #expect(String(buffer: data) == "hello")
    }

    @Test func answersSimultaneousConnectWithNA() async throws {
        // What Kubo writes when it dials: header, simultaneous-connect and /noise in one write.
        let (dialer, listener) = InMemoryByteStream.makePair()
        var kubo = ByteBuffer()
        for token in ["/multistream/1.0.0", "/libp2p/simultaneous-connect", "/noise"] {
            MultistreamMessage(token).encode(into: &kubo)
        }
        kubo.writeBytes([0x00, 0x20])  // the start of the first Noise message
        try await dialer.write(kubo)
        let accepted = try await MultistreamSelect.handle(on: listener, supports: { $0 == "/noise" || $0 == "/libp2p/simultaneous-connect" })
        #expect(accepted.protocolID == "/noise")
        #expect(try await accepted.stream.readExactly(2).readableBytesView.elementsEqual([0x00, 0x20]))
        let reader = BufferedByteStream(dialer)
        #expect(try await reader.readMultistreamMessage() == .header)
        #expect(try await reader.readMultistreamMessage() == .notAvailable)
        #expect(try await reader.readMultistreamMessage() == MultistreamMessage("/noise"))
    }

    @Test func failsWhenNothingIsSupported() async throws {
        let (dialer, listener) = InMemoryByteStream.makePair()
        async let listened: Void = {
            _ = try? await MultistreamSelect.handle(on: listener, supports: { _ in false })
        }()
        await #expect(throws: LibP2PError.self) {
            _ = try await MultistreamSelect.select(["/a", "/b"], on: dialer)
        }
        await dialer.close()
        await listened
    }

    @Test func refusesOversizedLengthBeforeReadingIt() async throws {
        let (dialer, listener) = InMemoryByteStream.makePair()
        var hostile = ByteBuffer()
        MultistreamMessage.header.encode(into: &hostile)
        hostile.writeBytes([0xff, 0xff, 0xff, 0x7f])  // a 268 MB "token"
        try await dialer.write(hostile)
        await #expect {
            _ = try await MultistreamSelect.handle(on: listener, supports: { _ in true })
        } throws: { error in
            (error as? LibP2PError)?.code == .frameTooLarge
        }
    }

    @Test func listsSupportedProtocols() async throws {
        let (dialer, listener) = InMemoryByteStream.makePair()
        async let listened: Void = {
            _ = try? await MultistreamSelect.handle(on: listener, supports: { _ in false }, listing: { ["/a/1", "/b/2"] })
        }()
        let reader = BufferedByteStream(dialer)
        try await reader.writeMultistreamMessages([.header, .list])
        #expect(try await reader.readMultistreamMessage() == .header)
        let body = try await reader.readLengthPrefixed(maximumLength: 1024)
        #expect(Array(body.readableBytesView) == [5] + Array("/a/1\n".utf8) + [5] + Array("/b/2\n".utf8) + [0x0a])
        await dialer.close()
        await listened
    }
}
