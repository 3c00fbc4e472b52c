import Crypto

/// The end-to-end ciphersuites a prekey bundle can offer (crypto.md §8.1).
///
/// The suite byte is bound into every HKDF `info` and every AEAD associated data, so changing it
/// (a downgrade) changes every key and breaks decryption.
public enum Ciphersuite: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// X25519 + AES-256-GCM + HKDF-SHA256, the default.
    case x25519 = 0x01
    /// P-256 ECDH + AES-256-GCM + HKDF-SHA256 (NIST; Secure Enclave capable).
    case p256 = 0x02
    /// X25519 + ML-KEM-768 hybrid (PQXDH-style) + AES-256-GCM + HKDF-SHA256.
    case x25519MLKEM768 = 0x03

    /// The suites in order of preference when both sides offer several.
    public static let preferenceOrder: [Ciphersuite] = [.x25519MLKEM768, .x25519, .p256]

    /// The Diffie-Hellman curve used for X3DH and the ratchet.
    public var curve: DHCurve {
        switch self {
        case .x25519, .x25519MLKEM768: .x25519
        case .p256: .p256
        }
    }

    /// Whether X3DH adds an ML-KEM-768 shared secret (PQXDH).
    public var usesKEM: Bool { self == .x25519MLKEM768 }

    public var description: String {
        switch self {
        case .x25519: "0x01 X25519/AES-256-GCM/HKDF-SHA256"
        case .p256: "0x02 P-256/AES-256-GCM/HKDF-SHA256"
        case .x25519MLKEM768: "0x03 X25519+ML-KEM-768/AES-256-GCM/HKDF-SHA256"
        }
    }

    /// The HPKE ciphersuite (RFC 9180, base mode) that seals prekey messages to an identity DH key
    /// of this suite's curve.
    var hpkeCiphersuite: HPKE.Ciphersuite {
        switch curve {
        case .x25519: HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: .AES_GCM_256)
        case .p256: .P256_SHA256_AES_GCM_256
        }
    }

    init(byte: UInt8) throws {
        guard let suite = Ciphersuite(rawValue: byte) else {
            throw ChatCryptoError(.unsupportedSuite, "unknown ciphersuite byte 0x\(String(byte, radix: 16))")
        }
        self = suite
    }
}

/// A Diffie-Hellman curve used by a ciphersuite.
public enum DHCurve: UInt8, Hashable, Sendable {
    /// RFC 7748 X25519; public keys are 32 bytes.
    case x25519 = 1
    /// NIST P-256; public keys are 33-byte compressed SEC 1 points.
    case p256 = 2

    /// Length of an encoded public key.
    public var publicKeyLength: Int {
        switch self {
        case .x25519: 32
        case .p256: 33
        }
    }

    /// Length of the HPKE encapsulated key (RFC 9180 §7.1 `Nenc`).
    var hpkeEncapsulatedKeyLength: Int {
        switch self {
        case .x25519: 32
        case .p256: 65
        }
    }
}
