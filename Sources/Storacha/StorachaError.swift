import Multiformats

/// The one public error type of the `Storacha` module.
///
/// A struct with an extensible code rather than an enum, so new failure kinds can be added
/// without breaking callers (the shape swift-certificates uses for `CertificateError`).
/// Receipts that carry `out.error` become ``Code/errorReceipt`` with the service's error
/// `name` in ``remoteName``.
public struct StorachaError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// Bytes or text that do not parse as what they claim to be (DID, UCAN, CAR, receipt).
        public static let malformedInput = Code("malformed input")
        /// A length or count exceeds its named maximum.
        public static let limitExceeded = Code("limit exceeded")
        /// A key type, DID method or signature algorithm this implementation does not handle.
        public static let unsupported = Code("unsupported")
        /// A UCAN or receipt signature does not verify against its issuer's key.
        public static let invalidSignature = Code("invalid signature")
        /// A UCAN in the chain has expired (`exp` ≤ now; ucan 0.9.1 §3.2.4).
        public static let expired = Code("expired")
        /// A UCAN in the chain is not valid yet (`nbf` > now; ucan 0.9.1 §3.2.4).
        public static let notYetValid = Code("not yet valid")
        /// The delegation chain does not grant the invoked capability (missing or insufficient
        /// proofs, audience mismatch, resource not owned by the root issuer).
        public static let unauthorized = Code("unauthorized")
        /// The invocation was addressed to another principal than the service.
        public static let wrongAudience = Code("wrong audience")
        /// The service answered with a receipt whose `out` is an error.
        public static let errorReceipt = Code("error receipt")
        /// An HTTP exchange failed: connection, status or protocol.
        public static let httpFailure = Code("HTTP failure")
        /// Fetched bytes do not hash to the requested CID or digest.
        public static let hashMismatch = Code("hash mismatch")
        /// A receipt, block or blob that was expected is absent.
        public static let notFound = Code("not found")
        /// Waiting for a receipt took more attempts than allowed.
        public static let timeout = Code("timeout")
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, one line.
    public var message: String
    /// For ``Code/errorReceipt``: the `name` the service gave its error (e.g. `"Unauthorized"`).
    public var remoteName: String?
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    /// Creates an error of kind `code` with a one-line `message`.
    public init(_ code: Code, _ message: String, remoteName: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.remoteName = remoteName
        self.underlying = underlying
    }

    /// `"<code>: <message>"`, then `" [<remoteName>]"` and `" (<underlying>)"` when present.
    public var description: String {
        var text = "\(code): \(message)"
        if let remoteName { text += " [\(remoteName)]" }
        if let underlying { text += " (\(underlying))" }
        return text
    }

    /// Equal when `code`, `message` and `remoteName` are; hashing (from ``CodedError``) uses the
    /// first two, which is consistent with this.
    public static func == (lhs: StorachaError, rhs: StorachaError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.remoteName == rhs.remoteName
    }
}
