import LibP2P
import Multiformats
import NIOCore
import Synchronization
import Testing

@testable import IPFS

/// A read-only stream that hands out fixed bytes in chunks of a given size.
final class ChunkedByteStream: ByteStream {
    private let bytes: [UInt8]
    private let chunkSize: Int
    private let offset = Mutex(0)
    /// How many times `read()` was called.
    let reads = Mutex(0)

    init(_ bytes: [UInt8], chunkSize: Int) {
        self.bytes = bytes
        self.chunkSize = chunkSize
    }

    func read() async throws -> ByteBuffer? {
        reads.withLock { $0 += 1 }
        return offset.withLock { offset -> ByteBuffer? in
            guard offset < bytes.count else { return nil }
            let end = min(offset + chunkSize, bytes.count)
            defer { offset = end }
            return ByteBuffer(bytes: bytes[offset..<end])
        }
    }

    func write(_ buffer: ByteBuffer) async throws {}
    func closeWrite() async throws {}
    func close() async {}
}

@Suite struct BitswapMessageReaderTests {
    func framed(_ messages: [BitswapMessage]) -> [UInt8] {
        var bytes: [UInt8] = []
        for message in messages {
            let body = message.bytes
            var length = UInt64(body.count)
            while length >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            bytes.append(UInt8(length))
            bytes += body
        }
        return bytes
    }

    func messages(count: Int) -> [BitswapMessage] {
        (0..<count).map { index in
            let data = pseudoRandomBytes(count: 1000 + index * 7919 % 300_000, seed: UInt64(index + 1))
            return BitswapMessage(payload: [.init(cid: .v1(codec: .raw, multihash: .sha256(data)), data: data)])
        }
    }

    @Test(arguments: [3, 4096, 65_536, 1 << 22])
    func readsEveryMessageWhateverTheChunking(chunkSize: Int) async throws {
        let sent = messages(count: 12)
        var reader = BitswapMessageReader(ChunkedByteStream(framed(sent), chunkSize: chunkSize))
        var received: [BitswapMessage] = []
        while let message = try await reader.next() { received.append(message) }
        #expect(received == sent)
    }

    @Test func leftoverBytesOfABufferedStreamAreRead() async throws {
        let sent = messages(count: 3)
        let bytes = framed(sent)
        let stream = BufferedByteStream(ChunkedByteStream(Array(bytes[100...]), chunkSize: 5000), pending: ByteBuffer(bytes: bytes[..<100]))
        var reader = BitswapMessageReader(stream)
        var received: [BitswapMessage] = []
        while let message = try await reader.next() { received.append(message) }
        #expect(received == sent)
    }

    @Test func oversizedLengthIsRefusedBeforeTheBodyIsRead() async throws {
        // uvarint(maxMessageSize + 1), then nothing: the reader must not wait for the body.
        var bytes: [UInt8] = []
        var length = UInt64(BitswapMessage.maxMessageSize + 1)
        while length >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        bytes.append(UInt8(length))
        let stream = ChunkedByteStream(bytes, chunkSize: 64)
        var reader = BitswapMessageReader(stream)
        let error = await #expect(throws: IPFSError.self) { _ = try await reader.next() }
        #expect(error?.code == .limitExceeded)
        #expect(stream.reads.withLock { $0 } == 1)
    }

    @Test func truncatedInputIsAnErrorAndCleanEndIsNil() async throws {
        let bytes = framed(messages(count: 2))
        var truncated = BitswapMessageReader(ChunkedByteStream(Array(bytes.dropLast(10)), chunkSize: 1000))
        _ = try await truncated.next()
        let error = await #expect(throws: IPFSError.self) { _ = try await truncated.next() }
        #expect(error?.code == .malformedInput)

        var endless = BitswapMessageReader(ChunkedByteStream([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], chunkSize: 2))
        await #expect(throws: IPFSError.self) { _ = try await endless.next() }

        var empty = BitswapMessageReader(ChunkedByteStream([], chunkSize: 1))
        #expect(try await empty.next() == nil)
    }
}
