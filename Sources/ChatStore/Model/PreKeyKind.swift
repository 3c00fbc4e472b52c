/// Which of our X3DH keys a `PreKeyRecord` holds.
public enum PreKeyKind: String, Hashable, Sendable, CaseIterable {
    /// Our long-term DH identity key (signed by the Ed25519 libp2p key in the bundle).
    case identity
    /// A medium-term signed prekey, rotated.
    case signed
    /// A one-time prekey, consumed by the first message that uses it.
    case oneTime = "one-time"
}
