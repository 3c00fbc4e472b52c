import NIOCore

/// An ordered, reliable, bidirectional byte stream: a TCP connection, a Noise-secured
/// connection or a Yamux stream. Each layer of the libp2p stack wraps one of these and is one.
///
/// Contract:
/// - `read()` is called by one task at a time; it returns the next chunk of bytes in order,
///   or `nil` once the remote side has closed its writing direction (EOF).
/// - `write(_:)` may be called from several tasks; each call's bytes are written contiguously
///   and calls are ordered. It suspends while the peer's window or the socket buffer is full.
/// - `closeWrite()` half-closes (no more writes from us); reads continue until EOF.
/// - `close()` aborts both directions; pending and later reads and writes throw.
public protocol ByteStream: AnyObject, Sendable {
    /// The next chunk of bytes, or `nil` at end of stream.
    func read() async throws -> ByteBuffer?
    /// Writes all of `buffer`, in order with other writes.
    func write(_ buffer: ByteBuffer) async throws
    /// Closes our writing direction (TCP shutdown(WR), Yamux FIN).
    func closeWrite() async throws
    /// Aborts the stream in both directions (TCP close, Yamux RST).
    func close() async
}
