import Crypto

/// A self-describing hash digest: `varint(code) ‖ varint(length) ‖ digest`.
///
/// Implements https://github.com/multiformats/multihash. Peer IDs are multihashes of the
/// encoded public key (identity for short keys, sha2-256 otherwise); CIDs wrap one.
public struct Multihash: Hashable, Sendable {
    /// The longest digest accepted when parsing, in bytes.
    ///
    /// Real digests are at most 64 bytes; identity multihashes in peer IDs are at most 42.
    public static let maxDigestLength = 128

    /// The hash function (a multicodec of tag `multihash`).
    public let code: Multicodec
    /// The digest bytes (for `identity`, the data itself).
    public let digest: [UInt8]

    /// The binary multihash: `varint(code) ‖ varint(digest length) ‖ digest` (multihash spec).
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// Appends the binary multihash to `bytes` (multihash spec).
    public func encode(into bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + 4 + digest.count)
        Varint.encode(code.rawValue, into: &bytes)
        Varint.encode(UInt64(digest.count), into: &bytes)
        bytes.append(contentsOf: digest)
    }

    /// Creates a multihash from a hash function code and a digest.
    ///
    /// - Throws: ``MultiformatsError`` `.invalidLength` if a sha2-256 digest is not 32 bytes or a
    ///   sha2-512 digest is not 64 bytes; `.tooLarge` past ``maxDigestLength``.
    public init(code: Multicodec, digest: [UInt8]) throws {
        guard digest.count <= Self.maxDigestLength else {
            throw MultiformatsError(.tooLarge, "digest of \(digest.count) bytes exceeds \(Self.maxDigestLength)")
        }
        if let required = Self.digestLength(of: code), digest.count != required {
            throw MultiformatsError(.invalidLength, "\(code) digest must be \(required) bytes, got \(digest.count)")
        }
        self.code = code
        self.digest = digest
    }

    private init(unchecked code: Multicodec, digest: [UInt8]) {
        self.code = code
        self.digest = digest
    }

    /// The fixed digest length of the hash functions we check, or `nil`.
    static func digestLength(of code: Multicodec) -> Int? {
        switch code {
        case .sha2_256: 32
        case .sha2_512: 64
        default: nil
        }
    }

    /// Parses a binary multihash that makes up the whole of `bytes` (multihash spec).
    ///
    /// - Throws: ``MultiformatsError`` for bad varints, truncated or oversized digests,
    ///   wrong sha2 lengths, or `.trailingData` if bytes follow the digest.
    public init(bytes: some Collection<UInt8>) throws {
        let (multihash, length) = try Self.parsePrefix(bytes)
        guard length == bytes.count else {
            throw MultiformatsError(.trailingData, "\(bytes.count - length) bytes after the multihash")
        }
        self = multihash
    }

    /// Parses a multihash at the start of `bytes`, which may continue past it (multihash spec).
    ///
    /// - Returns: the multihash and the number of bytes it occupied.
    public static func parsePrefix(_ bytes: some Collection<UInt8>) throws -> (Multihash, length: Int) {
        let (code, codeLength) = try Varint.decode(bytes)
        let rest = bytes.dropFirst(codeLength)
        let (digestLength, lengthLength) = try Varint.decode(rest)
        guard digestLength <= UInt64(maxDigestLength) else {
            throw MultiformatsError(.tooLarge, "digest length \(digestLength) exceeds \(maxDigestLength)")
        }
        let digest = Array(rest.dropFirst(lengthLength).prefix(Int(digestLength)))
        guard digest.count == Int(digestLength) else {
            throw MultiformatsError(.truncated, "digest has \(digest.count) of \(digestLength) bytes")
        }
        let multihash = try Multihash(code: Multicodec(code), digest: digest)
        return (multihash, codeLength + lengthLength + digest.count)
    }

    /// The sha2-256 multihash of `data` (multihash code 0x12).
    public static func sha256(_ data: some Sequence<UInt8>) -> Multihash {
        Multihash(unchecked: .sha2_256, digest: Array(SHA256.hash(data: Array(data))))
    }

    /// The identity multihash of `data` (code 0x00): the digest is `data` itself.
    ///
    /// Data longer than ``maxDigestLength`` makes a multihash that parsers here refuse.
    public static func identity(_ data: some Collection<UInt8>) -> Multihash {
        Multihash(unchecked: .identity, digest: Array(data))
    }

    /// Whether this multihash is the hash of `data`, recomputed (sha2-256, sha2-512, identity).
    ///
    /// Returns `false` for hash functions this module cannot compute.
    public func matches(_ data: some Sequence<UInt8>) -> Bool {
        switch code {
        case .sha2_256: Array(SHA256.hash(data: Array(data))) == digest
        case .sha2_512: Array(SHA512.hash(data: Array(data))) == digest
        case .identity: digest.elementsEqual(data)
        default: false
        }
    }
}
