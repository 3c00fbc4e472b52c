/// The one public error type of the `Multiformats` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
/// Every codec in this module reports bad input with this type and never traps.
public struct MultiformatsError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        /// The code's short name.
        public var description: String { name }

        /// The input ended in the middle of a value (varint, length-prefixed field, digest).
        public static let truncated = Code("truncated input")
        /// An unsigned varint used more bytes than needed (unsigned-varint spec: minimal encoding).
        public static let nonMinimalVarint = Code("non-minimal varint")
        /// An unsigned varint longer than 9 bytes / 63 bits (unsigned-varint spec).
        public static let varintTooLong = Code("varint too long")
        /// A length or size exceeds its named maximum.
        public static let tooLarge = Code("too large")
        /// Text contains a character outside the encoding's alphabet, or bad padding.
        public static let invalidCharacter = Code("invalid character")
        /// The multibase prefix character is unknown or not supported.
        public static let unsupportedMultibase = Code("unsupported multibase")
        /// A multicodec, multihash function or multiaddr protocol this module does not accept.
        public static let unsupportedCode = Code("unsupported code")
        /// A length does not match what the format requires (digest size, address size).
        public static let invalidLength = Code("invalid length")
        /// Bytes or characters left over after a complete value.
        public static let trailingData = Code("trailing data")
        /// A CID that violates the CID spec (bad version, v0 with another codec, ...).
        public static let invalidCID = Code("invalid CID")
        /// A multiaddr whose text or binary form is malformed.
        public static let invalidMultiaddr = Code("invalid multiaddr")
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, one line.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    /// Creates an error with a code and a one-line message.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }
}
