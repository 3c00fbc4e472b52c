import Multiformats

/// The one public error type of the `IPFS` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct IPFSError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes from a peer that do not parse (Bitswap protobuf, CID prefix, CID).
        public static let malformedInput = Code("malformed input")
        /// A size or count read from the wire or given by a caller exceeds its named maximum.
        public static let limitExceeded = Code("limit exceeded")
        /// Block bytes that do not hash to the CID they were offered under.
        public static let hashMismatch = Code("hash mismatch")
        /// A stored block no longer matches its hash; it was removed.
        public static let corruptBlock = Code("corrupt block")
        /// A block that is not in the store, or that no peer could provide.
        public static let blockNotFound = Code("block not found")
        /// A CID whose hash function or codec this module does not handle.
        public static let unsupportedCID = Code("unsupported CID")
        /// The durable store failed (SQLite, file system).
        public static let storageFailed = Code("storage failed")
        /// No peer answered in time.
        public static let timeout = Code("timeout")
        /// A peer could not be reached or refused Bitswap.
        public static let peerUnavailable = Code("peer unavailable")
        /// A peer broke the protocol (sent blocks nobody asked for, wrong bytes).
        public static let misbehavingPeer = Code("misbehaving peer")
        /// Reading or writing a local file failed.
        public static let fileFailed = Code("file failed")
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
