/// The initiator's one-use ephemeral key `EK_A` of X3DH (§3.3); discarded once the session's
/// first keys are derived, so it is never serialized.
struct EphemeralKey: Sendable {
    let privateKey: DHPrivateKey
    var publicKey: DHPublicKey { privateKey.publicKey }
}
