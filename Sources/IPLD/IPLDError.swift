import Multiformats

/// The one public error type of the `IPLD` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct IPLDError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes that do not parse in the codec they claim to be in.
        public static let malformedInput = Code("malformed input")
        /// Bytes that parse but are not in the codec's one canonical form (DAG-CBOR strictness,
        /// DAG-PB field order, unsorted or duplicate keys).
        public static let nonCanonical = Code("non-canonical encoding")
        /// The input ended before a complete item.
        public static let truncated = Code("truncated input")
        /// A length, count or depth exceeds its named maximum.
        public static let limitExceeded = Code("limit exceeded")
        /// A value that the codec cannot represent (NaN, a non-string map key, a bad DAG-PB form).
        public static let unsupportedValue = Code("unsupported value")
        /// A block's bytes do not hash to its CID.
        public static let hashMismatch = Code("hash mismatch")
        /// A CID whose codec or hash function this module does not handle here.
        public static let unsupportedCID = Code("unsupported CID")
        /// A DAG that is not a valid UnixFS graph (cycle, wrong sizes, unknown node type).
        public static let invalidDAG = Code("invalid DAG")
        /// A block the caller's block source could not provide.
        public static let blockNotFound = Code("block not found")
        /// A path or directory entry that does not exist.
        public static let notFound = Code("not found")
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
