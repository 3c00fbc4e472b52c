import Crypto

/// An Ed25519 private key that signs mailbox requests: the shared body of
/// `QueueRecipientKey` and `QueueSenderKey`. The private bytes leave it only through
/// `rawRepresentation`, which exists so a key can be stored or handed to senders.
struct QueueSigningKey: Sendable {
    /// The length of an Ed25519 seed and of an Ed25519 public key.
    static let keyLength = 32

    private let key: Curve25519.Signing.PrivateKey

    init() {
        key = Curve25519.Signing.PrivateKey()
    }

    init(rawRepresentation: [UInt8], role: String) throws {
        guard rawRepresentation.count == Self.keyLength else {
            throw MailboxError(.invalidAddress, "\(role) key must be \(Self.keyLength) bytes, got \(rawRepresentation.count)")
        }
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
        } catch {
            throw MailboxError(.invalidAddress, "invalid \(role) key", underlying: error)
        }
    }

    var rawRepresentation: [UInt8] { [UInt8](key.rawRepresentation) }
    var publicKeyBytes: [UInt8] { [UInt8](key.publicKey.rawRepresentation) }

    func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            return [UInt8](try key.signature(for: message))
        } catch {
            throw MailboxError(.internalError, "Ed25519 signing failed", underlying: error)
        }
    }
}
