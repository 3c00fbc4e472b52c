import Multiformats

/// The one public error type of the `ChatStore` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
public struct ChatStoreError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The database could not be opened, migrated or written (I/O, corruption, locks).
        public static let database = Code("database error")
        /// A contact, message, conversation or prekey that the call names does not exist.
        public static let notFound = Code("not found")
        /// A contact with the same name (case-insensitively) or the same peer ID already exists.
        public static let duplicateContact = Code("duplicate contact")
        /// A prekey with the same kind and id already exists.
        public static let duplicatePreKey = Code("duplicate prekey")
        /// The session row changed since it was read (another process advanced the ratchet).
        public static let sessionConflict = Code("session conflict")
        /// The outgoing message already has a sealed envelope; it must never be sealed twice.
        public static let alreadySealed = Code("already sealed")
        /// An incoming message reuses a sequence number of a different message in its conversation.
        public static let sequenceConflict = Code("sequence conflict")
        /// A message id is already used by a different message (another conversation or direction).
        public static let messageIDConflict = Code("message id conflict")
        /// A one-time prekey was already consumed (a replayed first message).
        public static let preKeyConsumed = Code("prekey consumed")
        /// The database belongs to a different identity than the one opening it.
        public static let identityMismatch = Code("identity mismatch")
        /// An argument is out of range or malformed (empty name, bad limit, wrong id length).
        public static let invalidArgument = Code("invalid argument")
        /// A stored row does not decode (a value written by a newer or broken version).
        public static let corruptRecord = Code("corrupt record")
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, one line.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    /// Creates an error of kind `code` explained by `message`.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }
}
