import Multiformats

/// The one public error type of the `LibP2P` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct LibP2PError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes from the peer that do not parse (protobuf, frame headers, tokens).
        public static let malformedInput = Code("malformed input")
        /// A length read from the wire exceeds its named maximum.
        public static let frameTooLarge = Code("frame too large")
        /// The stream or connection ended before a complete message arrived.
        public static let unexpectedEOF = Code("unexpected end of stream")
        /// A key type or key encoding this implementation does not accept.
        public static let unsupportedKey = Code("unsupported key")
        /// A signature did not verify.
        public static let invalidSignature = Code("invalid signature")
        /// The remote peer is not the one that was dialed.
        public static let peerIDMismatch = Code("peer id mismatch")
        /// The Noise handshake failed (decryption, ordering or payload).
        public static let handshakeFailed = Code("handshake failed")
        /// The peer answered `na` to every protocol we proposed.
        public static let protocolNotSupported = Code("protocol not supported")
        /// A stream or connection was reset or closed while in use.
        public static let streamReset = Code("stream reset")
        /// A configured limit (connections, streams, backlog) was reached.
        public static let limitExceeded = Code("limit exceeded")
        /// Dialing failed (refused, unreachable, unsupported address).
        public static let dialFailed = Code("dial failed")
        /// An operation did not finish in time.
        public static let timeout = Code("timeout")
        /// The connection or host was closed.
        public static let closed = Code("closed")
        /// Encryption or decryption failed.
        public static let decryptionFailed = Code("decryption failed")
        /// A multiaddr that this host cannot dial or listen on.
        public static let unsupportedAddress = Code("unsupported address")
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, one line.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    /// Creates an error of kind `code` with a one-line `message`.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }
}
