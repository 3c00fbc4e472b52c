import Multiformats

/// The one public error type of the `ChatCrypto` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct ChatCryptoError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes that do not parse (bundle, envelope, state, content).
        public static let malformedInput = Code("malformed input")
        /// The input ended before a complete structure was read.
        public static let truncated = Code("truncated input")
        /// A length read from input exceeds its named maximum.
        public static let lengthExceeded = Code("length exceeded")
        /// A format version this implementation does not know.
        public static let unsupportedVersion = Code("unsupported version")
        /// A ciphersuite byte this implementation does not know or was not offered.
        public static let unsupportedSuite = Code("unsupported ciphersuite")
        /// A key that is not valid for its suite (wrong length, not on the curve).
        public static let invalidKey = Code("invalid key")
        /// A signature in a bundle or prekey message did not verify.
        public static let invalidSignature = Code("invalid signature")
        /// The PeerID does not match the identity key that claims it.
        public static let peerIDMismatch = Code("peer id mismatch")
        /// A bundle, signed prekey or KEM prekey is past its expiry.
        public static let expired = Code("expired")
        /// A prekey message names a prekey we do not hold (used, rotated out, or never ours).
        public static let unknownPreKey = Code("unknown prekey")
        /// No identity key of ours opens this prekey message: it was sealed to someone else.
        public static let wrongRecipient = Code("wrong recipient")
        /// The ratchet header does not decrypt under any header key of this session.
        public static let headerDecryptionFailed = Code("header decryption failed")
        /// The header decrypted but the body did not authenticate (tampered body or AD).
        public static let decryptionFailed = Code("decryption failed")
        /// This message's key was already used: a replayed or duplicated message.
        public static let replayedMessage = Code("replayed message")
        /// The header asks to skip more than `maximumSkip` message keys in one chain.
        public static let tooManySkippedMessages = Code("too many skipped messages")
        /// The content does not fit in the largest envelope bucket.
        public static let messageTooLarge = Code("message too large")
        /// The operation is not valid in the session's current state.
        public static let invalidState = Code("invalid state")
        /// A primitive from swift-crypto failed (key generation, KEM, HPKE setup).
        public static let cryptoFailure = Code("crypto failure")
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
