import Multiformats

/// The one public error type of the `ChatNode` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct ChatNodeError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Input that does not parse (an invite, a frame, a request).
        public static let malformedInput = Code("malformed input")
        /// An invite whose signature does not verify or that was altered.
        public static let invalidInvite = Code("invalid invite")
        /// An invite past its expiry.
        public static let expiredInvite = Code("expired invite")
        /// No contact by that name or PeerID.
        public static let unknownContact = Code("unknown contact")
        /// The peer could not be reached in time.
        public static let unreachable = Code("unreachable")
        /// The peer refused a delivered envelope.
        public static let rejected = Code("rejected")
        /// A configured limit was exceeded.
        public static let limitExceeded = Code("limit exceeded")
        /// The node is not set up (no profile in this home).
        public static let notInitialized = Code("not initialized")
        /// The local control socket failed.
        public static let control = Code("control")
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
