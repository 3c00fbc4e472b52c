import Multiformats

/// A signature as UCAN blocks and receipts carry it: a varsig header then the raw signature.
///
/// Implements dag-ucan `src/signature.js` (varsig): `varint(0xd0ed)` ‖ `varint(64)` ‖ 64-byte
/// Ed25519 signature, i.e. `ed a1 03 40` ‖ sig on the wire. Only EdDSA is supported.
public struct UCANSignature: Hashable, Sendable {
    /// The varsig code of EdDSA over Ed25519 (dag-ucan `signature.js` `EdDSA = 0xd0ed`).
    public static let edDSACode: UInt64 = 0xd0ed
    /// Length of an Ed25519 signature.
    public static let ed25519Length = 64
    /// The longest varsig accepted when parsing.
    public static let maxLength = 600

    /// The raw Ed25519 signature.
    public let raw: [UInt8]

    /// Wraps a raw 64-byte Ed25519 signature.
    public init(ed25519 raw: [UInt8]) throws {
        guard raw.count == Self.ed25519Length else {
            throw StorachaError(.malformedInput, "Ed25519 signature must be 64 bytes, got \(raw.count)")
        }
        self.raw = raw
    }

    /// Parses a varsig (`ed a1 03 40` ‖ sig).
    public init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maxLength else {
            throw StorachaError(.limitExceeded, "signature of \(bytes.count) bytes exceeds \(Self.maxLength)")
        }
        do {
            let (code, codeLength) = try Varint.decode(bytes)
            let (length, lengthLength) = try Varint.decode(bytes.dropFirst(codeLength))
            guard code == Self.edDSACode else {
                throw StorachaError(.unsupported, "signature algorithm 0x\(String(code, radix: 16)) (only EdDSA 0xd0ed)")
            }
            guard length == UInt64(Self.ed25519Length), bytes.count == codeLength + lengthLength + Self.ed25519Length else {
                throw StorachaError(.malformedInput, "EdDSA varsig must carry exactly 64 bytes")
            }
            raw = Array(bytes.suffix(Self.ed25519Length))
        } catch let error as StorachaError {
            throw error
        } catch {
            throw StorachaError(.malformedInput, "signature is not a varsig", underlying: error)
        }
    }

    /// The varsig bytes: `ed a1 03 40` ‖ sig.
    public var bytes: [UInt8] {
        Varint.encode(Self.edDSACode) + Varint.encode(UInt64(raw.count)) + raw
    }
}
