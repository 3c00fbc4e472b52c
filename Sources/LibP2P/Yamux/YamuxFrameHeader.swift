import NIOCore

/// The 12-byte header that starts every Yamux frame: `!BBHII` = version, type, flags, stream id,
/// length, all big-endian.
///
/// Spec: hashicorp/yamux `spec.md` "Framing"; libp2p `yamux/README.md`.
public struct YamuxFrameHeader: Hashable, Sendable {
    /// The only protocol version defined (spec.md "Framing": version is always 0).
    public static let version: UInt8 = 0
    /// Encoded size of a header in bytes.
    public static let size = 12

    /// The frame type (spec.md "Message Type").
    public enum FrameType: UInt8, Hashable, Sendable {
        /// Stream data; `length` counts the payload bytes that follow.
        case data = 0
        /// Grants `length` more bytes of send window to the peer; may open or close a stream.
        case windowUpdate = 1
        /// Session liveness and RTT; `length` is an opaque value echoed back.
        case ping = 2
        /// Session shutdown; `length` is a ``GoAwayCode``.
        case goAway = 3
    }

    /// The frame flags (spec.md "Flags"). Unknown bits are preserved and ignored.
    public struct Flags: OptionSet, Hashable, Sendable {
        /// The 16-bit wire value.
        public let rawValue: UInt16
        /// Creates flags from their wire value.
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// Opens a stream, or is a ping request.
        public static let syn = Flags(rawValue: 1)
        /// Acknowledges a stream open, or is a ping response.
        public static let ack = Flags(rawValue: 2)
        /// Half-closes the sender's direction of the stream.
        public static let fin = Flags(rawValue: 4)
        /// Aborts the stream in both directions.
        public static let rst = Flags(rawValue: 8)
    }

    /// The `length` value of a GoAway frame (spec.md "GoAway").
    public enum GoAwayCode: UInt32, Hashable, Sendable {
        /// Normal termination.
        case normal = 0
        /// The peer violated the protocol.
        case protocolError = 1
        /// An internal error on the sender's side.
        case internalError = 2
    }

    /// The frame type.
    public var type: FrameType
    /// The frame flags.
    public var flags: Flags
    /// The stream the frame belongs to; 0 for session frames (Ping, GoAway).
    public var streamID: UInt32
    /// Payload length (Data), window delta (WindowUpdate), opaque value (Ping) or code (GoAway).
    public var length: UInt32

    /// Creates a header from its fields.
    public init(type: FrameType, flags: Flags = [], streamID: UInt32, length: UInt32) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    /// Parses a header from the front of `buffer`, or returns `nil` (consuming nothing) when fewer
    /// than 12 bytes are readable.
    ///
    /// - Throws: `LibP2PError.malformedInput` for an unknown version or frame type (spec.md
    ///   "Framing": both are protocol errors that end the session).
    public init?(parsing buffer: inout ByteBuffer) throws {
        guard buffer.readableBytes >= Self.size else { return nil }
        let start = buffer.readerIndex
        let version = buffer.getInteger(at: start, as: UInt8.self)!
        let rawType = buffer.getInteger(at: start + 1, as: UInt8.self)!
        guard version == Self.version else {
            throw LibP2PError(.malformedInput, "yamux: unsupported version \(version)")
        }
        guard let type = FrameType(rawValue: rawType) else {
            throw LibP2PError(.malformedInput, "yamux: unknown frame type \(rawType)")
        }
        self.type = type
        self.flags = Flags(rawValue: buffer.getInteger(at: start + 2, as: UInt16.self)!)
        self.streamID = buffer.getInteger(at: start + 4, as: UInt32.self)!
        self.length = buffer.getInteger(at: start + 8, as: UInt32.self)!
        buffer.moveReaderIndex(forwardBy: Self.size)
    }

    /// Appends the 12-byte encoding to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Self.version)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(flags.rawValue)
        buffer.writeInteger(streamID)
        buffer.writeInteger(length)
    }

    /// The header alone as a buffer (for frames without payload).
    func encoded() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(Self.size)
        encode(into: &buffer)
        return buffer
    }
}
