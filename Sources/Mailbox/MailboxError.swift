import Multiformats

/// The one public error type of the `Mailbox` module.
///
/// A struct with an extensible code rather than an enum (the shape of `LibP2PError`). Every
/// refusal a mailbox sends has its own code, carried on the wire as `Code.wireValue`, so a
/// sender can tell "queue full" from "slow down" from "not yours".
public struct MailboxError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The status number on the wire (`MailboxResponse.status`); 0 is success.
        public let wireValue: UInt32
        let name: String
        init(_ wireValue: UInt32, _ name: String) {
            self.wireValue = wireValue
            self.name = name
        }
        public var description: String { name }

        /// The request does not parse, or a field has the wrong size or kind.
        public static let malformed = Code(1, "malformed request")
        /// A request or response message exceeds `MailboxProtocol.maxMessageLength`.
        public static let messageTooLarge = Code(2, "message too large")
        /// An envelope exceeds the mailbox's maximum envelope size.
        public static let tooLarge = Code(3, "envelope too large")
        /// The request carries a protocol version this mailbox does not speak.
        public static let unsupportedVersion = Code(4, "unsupported version")
        /// No queue has this id (never created, deleted, or on another mailbox).
        public static let unknownQueue = Code(5, "unknown queue")
        /// The signature does not verify with the key this request needs.
        public static let unauthorized = Code(6, "unauthorized")
        /// The request was already seen (same nonce within the replay window).
        public static let replayed = Code(7, "replayed request")
        /// The request's timestamp is outside the accepted window.
        public static let expiredRequest = Code(8, "expired request")
        /// The queue holds its maximum number of envelopes.
        public static let quotaCount = Code(9, "queue envelope count quota exceeded")
        /// The queue holds its maximum number of bytes.
        public static let quotaBytes = Code(10, "queue byte quota exceeded")
        /// Too many requests or deposits on this connection; retry later.
        public static let rateLimited = Code(11, "rate limited")
        /// The request is well formed but asks for something not allowed (too many CIDs, bad TTL).
        public static let invalidRequest = Code(12, "invalid request")
        /// The mailbox holds its maximum number of queues.
        public static let tooManyQueues = Code(13, "too many queues")
        /// The push endpoint URL is not acceptable (scheme, host, length).
        public static let invalidPushEndpoint = Code(14, "invalid push endpoint")
        /// The mailbox failed internally (storage); the request may be retried.
        public static let internalError = Code(15, "internal error")
        /// An attachment block exceeds `MailboxProtocol.maxBlockLength`.
        public static let blockTooLarge = Code(16, "block too large")
        /// An attachment block's bytes do not match its CID (or its CID is not sha2-256).
        public static let blockMismatch = Code(17, "block does not match its CID")

        // Client-side codes (never sent by a mailbox).

        /// A status number this client does not know.
        public static let unknownStatus = Code(1000, "unknown status")
        /// The mailbox could not be reached or the stream failed.
        public static let connectionFailed = Code(1001, "connection failed")
        /// A mailbox answer that does not parse or does not fit the request.
        public static let badResponse = Code(1002, "bad response")
        /// A queue address or credentials blob that does not parse.
        public static let invalidAddress = Code(1003, "invalid queue address")
        /// Envelope bytes that do not match their CID.
        public static let corruptEnvelope = Code(1004, "corrupt envelope")

        /// All codes a mailbox may send, by wire value.
        static let serverCodes: [UInt32: Code] = Dictionary(uniqueKeysWithValues: [
            malformed, messageTooLarge, tooLarge, unsupportedVersion, unknownQueue, unauthorized, replayed,
            expiredRequest, quotaCount, quotaBytes, rateLimited, invalidRequest, tooManyQueues,
            invalidPushEndpoint, internalError, blockTooLarge, blockMismatch,
        ].map { ($0.wireValue, $0) })

        /// The code for a wire status, `unknownStatus` for numbers this client does not know.
        static func fromWire(_ value: UInt32) -> Code {
            serverCodes[value] ?? unknownStatus
        }

        public static func == (lhs: Code, rhs: Code) -> Bool { lhs.wireValue == rhs.wireValue }
        public func hash(into hasher: inout Hasher) { hasher.combine(wireValue) }
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
