import LibP2P
import NIOCore

/// Reads uvarint-length-prefixed Bitswap messages from a stream, one at a time.
///
/// Keeps its own read buffer and drops consumed bytes as it goes, so a long-lived stream that
/// carries gigabytes of blocks holds at most one message (≤ ``BitswapMessage/maxMessageSize``)
/// plus one read chunk in memory. The length is checked against the maximum before the body is
/// awaited.
struct BitswapMessageReader: ~Copyable {
    /// Consumed bytes kept before the buffer is compacted.
    static let compactionThreshold = 1 << 20
    /// The longest length prefix accepted (35 bits: more than any allowed message size).
    static let maxLengthPrefixBytes = 5

    private let stream: any ByteStream
    private var buffer = ByteBuffer()

    /// A reader of `stream`. A ``LibP2P/BufferedByteStream`` hands over its read-ahead bytes
    /// through `read()`, so nothing read past the protocol negotiation is lost.
    init(_ stream: any ByteStream) {
        self.stream = stream
    }

    /// The next message; `nil` at a clean end of stream (between messages).
    mutating func next() async throws -> BitswapMessage? {
        guard let length = try await readLength() else { return nil }
        return try BitswapMessage(parsing: try await readBody(length: length))
    }

    /// The `length` bytes of a message body. A body that spans many stream chunks (a batch of
    /// blocks) is copied from each chunk straight into its array, not gathered in the read
    /// buffer first.
    private mutating func readBody(length: Int) async throws -> [UInt8] {
        if buffer.readableBytes >= length { return buffer.readBytes(length: length)! }
        var body = [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
            initialized = buffer.withUnsafeReadableBytes { pending in
                guard let source = pending.baseAddress, !pending.isEmpty else { return 0 }
                UnsafeMutableRawPointer(storage.baseAddress!).copyMemory(from: source, byteCount: pending.count)
                return pending.count
            }
        }
        buffer.clear()
        while body.count < length {
            guard var chunk = try await stream.read() else {
                throw IPFSError(.malformedInput, "Bitswap: stream ended inside a message of \(length) bytes")
            }
            let take = min(chunk.readableBytes, length - body.count)
            chunk.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress, take > 0 else { return }
                body.append(contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: take))
            }
            chunk.moveReaderIndex(forwardBy: take)
            if chunk.readableBytes > 0 { buffer = chunk }
        }
        return body
    }

    /// Parses the length prefix, reading more as needed; `nil` at EOF before its first byte.
    private mutating func readLength() async throws -> Int? {
        while true {
            var length: UInt64 = 0
            var shift: UInt64 = 0
            var complete = false
            var consumed = 0
            let view = buffer.readableBytesView
            for byte in view.prefix(Self.maxLengthPrefixBytes) {
                consumed += 1
                length |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 {
                    complete = true
                    break
                }
                shift += 7
            }
            if complete {
                guard length <= UInt64(BitswapMessage.maxMessageSize) else {
                    throw IPFSError(.limitExceeded, "Bitswap message of \(length) bytes exceeds \(BitswapMessage.maxMessageSize)")
                }
                buffer.moveReaderIndex(forwardBy: consumed)
                return Int(length)
            }
            guard consumed < Self.maxLengthPrefixBytes else {
                throw IPFSError(.malformedInput, "Bitswap: message length varint too long")
            }
            guard try await fill() else {
                if buffer.readableBytes == 0 { return nil }
                throw IPFSError(.malformedInput, "Bitswap: stream ended inside a length prefix")
            }
        }
    }

    /// Appends the next chunk of the stream; `false` at EOF.
    private mutating func fill() async throws -> Bool {
        guard var chunk = try await stream.read() else { return false }
        if buffer.readableBytes == 0 {
            // Nothing pending: adopt the chunk as is (no copy).
            buffer = chunk
            return true
        }
        if buffer.readerIndex >= Self.compactionThreshold {
            buffer.discardReadBytes()
        }
        buffer.writeBuffer(&chunk)
        return true
    }
}
