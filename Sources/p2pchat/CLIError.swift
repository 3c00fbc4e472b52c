import LibP2P

/// A command failure with a one-line, actionable message; exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }

    /// A one-line explanation of a libp2p failure for the user.
    init(_ error: any Error, context: String) {
        if let error = error as? LibP2PError {
            var text = "\(context): \(error.message)"
            if let underlying = error.underlying { text += " (\(underlying))" }
            self.description = text
        } else {
            self.description = "\(context): \(error)"
        }
    }
}
