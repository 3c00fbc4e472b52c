/// The shape of every module's one public error type: an extensible code, a one-line message and
/// an optional underlying error (the shape swift-certificates uses for `CertificateError`).
///
/// Conforming types get their `description` (`"<code>: <message>"`, then `" (<underlying>)"` when
/// there is one) and `==`/`hash(into:)` over `code` and `message` from this protocol, so each
/// module declares only its codes. The underlying error takes no part in equality: `any Error`
/// is not `Equatable`, and two errors of the same kind and explanation are the same failure.
public protocol CodedError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The module's extensible set of failure kinds (a struct of named static values).
    associatedtype Code: Hashable, Sendable, CustomStringConvertible

    /// The kind of failure.
    var code: Code { get }
    /// A human-readable explanation, one line.
    var message: String { get }
    /// The error that caused this one, if any.
    var underlying: (any Error)? { get }
}

extension CodedError {
    /// `"<code>: <message>"`, followed by `" (<underlying>)"` when there is an underlying error.
    public var description: String {
        if let underlying { return "\(code): \(message) (\(underlying))" }
        return "\(code): \(message)"
    }

    /// Equal when `code` and `message` are; the underlying error is not compared.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    /// Hashes `code` and `message`, the parts `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }
}
