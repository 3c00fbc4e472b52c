import Multiformats
import NIOCore
import Synchronization

/// A `ByteStream` with a read-ahead buffer: protocol negotiation reads length-prefixed tokens
/// from it, and whatever bytes arrived after the last token are returned by the next `read()`
/// instead of being lost ("leftover bytes handed on", multistream-select 1.0.0).
public final class BufferedByteStream: ByteStream {
    /// The stream underneath.
    public let underlying: any ByteStream
    private let pending: Mutex<ByteBuffer>

    /// Wraps `underlying`, optionally with bytes already read from it.
    public init(_ underlying: any ByteStream, pending: ByteBuffer = ByteBuffer()) {
        if let buffered = underlying as? BufferedByteStream {
            var combined = buffered.takePending()
            var extra = pending
            combined.writeBuffer(&extra)
            self.underlying = buffered.underlying
            self.pending = Mutex(combined)
        } else {
            self.underlying = underlying
            self.pending = Mutex(pending)
        }
    }

    /// Removes and returns the bytes read ahead but not yet consumed.
    public func takePending() -> ByteBuffer {
        pending.withLock { buffer in
            let taken = buffer
            buffer = ByteBuffer()
            return taken
        }
    }

    public func read() async throws -> ByteBuffer? {
        let buffered = takePending()
        if buffered.readableBytes > 0 { return buffered }
        return try await underlying.read()
    }

    public func write(_ buffer: ByteBuffer) async throws {
        try await underlying.write(buffer)
    }

    public func closeWrite() async throws {
        try await underlying.closeWrite()
    }

    public func close() async {
        await underlying.close()
    }

    /// Ensures at least `count` bytes are buffered, reading more as needed.
    /// Throws `.unexpectedEOF` if the stream ends first.
    private func fill(atLeast count: Int) async throws {
        while pending.withLock({ $0.readableBytes }) < count {
            guard var chunk = try await underlying.read() else {
                throw LibP2PError(.unexpectedEOF, "stream ended after \(pending.withLock { $0.readableBytes }) of \(count) bytes")
            }
            pending.withLock { buffer in
                if buffer.readableBytes == 0 {
                    buffer = chunk  // nothing pending: take the chunk as is, dropping consumed bytes
                } else {
                    // Drop bytes already handed out before growing, so a long-lived stream does
                    // not keep (and re-copy) everything it ever read.
                    if buffer.readerIndex >= Self.compactionThreshold { buffer.discardReadBytes() }
                    buffer.writeBuffer(&chunk)
                }
            }
        }
    }

    /// Reads exactly `count` bytes.
    public func readExactly(_ count: Int) async throws -> ByteBuffer {
        try await fill(atLeast: count)
        return pending.withLock { buffer in
            // `fill` guarantees the bytes are there.
            buffer.readSlice(length: count)!
        }
    }

    /// Reads an unsigned varint (multiformats unsigned-varint: at most 9 bytes, minimal).
    public func readVarint() async throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for index in 0..<Self.maxVarintLength {
            let byte = try await readExactly(1).getInteger(at: 0, as: UInt8.self)!
            if byte == 0 && index > 0 {
                throw LibP2PError(.malformedInput, "non-minimal varint")
            }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw LibP2PError(.malformedInput, "varint longer than \(Self.maxVarintLength) bytes")
    }

    /// Reads one `uvarint(length) ‖ bytes` message, refusing lengths above `maximumLength`
    /// before reading or allocating anything.
    public func readLengthPrefixed(maximumLength: Int) async throws -> ByteBuffer {
        let length = try await readVarint()
        guard length <= UInt64(maximumLength) else {
            throw LibP2PError(.frameTooLarge, "length-prefixed message of \(length) bytes exceeds \(maximumLength)")
        }
        return try await readExactly(Int(length))
    }

    /// Reads until EOF, refusing more than `maximumLength` bytes in total.
    public func readToEnd(maximumLength: Int) async throws -> ByteBuffer {
        var result = takePending()
        while var chunk = try await underlying.read() {
            guard result.readableBytes + chunk.readableBytes <= maximumLength else {
                throw LibP2PError(.frameTooLarge, "stream exceeds \(maximumLength) bytes")
            }
            result.writeBuffer(&chunk)
        }
        return result
    }

    /// Consumed bytes kept at the front of the read-ahead buffer before it is compacted.
    static let compactionThreshold = 64 * 1024

    /// Bytes the read-ahead buffer holds, consumed ones included (its writer index); what
    /// compaction keeps bounded. For tests.
    var retainedByteCount: Int {
        pending.withLock { $0.writerIndex }
    }

    /// The longest unsigned varint accepted (multiformats unsigned-varint: 9 bytes, 63 bits).
    public static let maxVarintLength = 9
}

extension ByteStream {
    /// Writes `uvarint(message.count) ‖ message` in one write.
    public func writeLengthPrefixed(_ message: [UInt8]) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(message.count + 10)
        buffer.writeBytes(Varint.encode(UInt64(message.count)))
        buffer.writeBytes(message)
        try await write(buffer)
    }
}
