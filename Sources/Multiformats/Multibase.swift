/// A self-describing base encoding: one prefix character, then the encoded bytes.
///
/// Implements https://github.com/multiformats/multibase (multibase.csv). Every encoding in
/// that table is supported except `base256emoji`. Decoding of base16, base32 (not base32z)
/// and base36 variants is case-insensitive after the prefix, as the spec requires.
public enum Multibase: Sendable, Hashable, CaseIterable {
    /// `0`: binary digits, 8 per byte.
    case base2
    /// `7`: octal, RFC 4648 style bit packing, no padding.
    case base8
    /// `9`: decimal (big-number).
    case base10
    /// `f`: lowercase hexadecimal.
    case base16
    /// `F`: uppercase hexadecimal.
    case base16upper
    /// `v`: RFC 4648 base32hex, lowercase, no padding.
    case base32hex
    /// `V`: RFC 4648 base32hex, uppercase, no padding.
    case base32hexupper
    /// `t`: RFC 4648 base32hex, lowercase, padded.
    case base32hexpad
    /// `T`: RFC 4648 base32hex, uppercase, padded.
    case base32hexpadupper
    /// `b`: RFC 4648 base32, lowercase, no padding (the CIDv1 default).
    case base32
    /// `B`: RFC 4648 base32, uppercase, no padding.
    case base32upper
    /// `c`: RFC 4648 base32, lowercase, padded.
    case base32pad
    /// `C`: RFC 4648 base32, uppercase, padded.
    case base32padupper
    /// `h`: z-base-32.
    case base32z
    /// `k`: base36, lowercase (big-number).
    case base36
    /// `K`: base36, uppercase (big-number).
    case base36upper
    /// `Z`: base58 with the Flickr alphabet.
    case base58flickr
    /// `z`: base58 with the Bitcoin alphabet (peer IDs, CIDv0 text).
    case base58btc
    /// `m`: RFC 4648 base64, no padding.
    case base64
    /// `M`: RFC 4648 base64, padded.
    case base64pad
    /// `u`: RFC 4648 base64url, no padding (multiaddr certhash text).
    case base64url
    /// `U`: RFC 4648 base64url, padded.
    case base64urlpad

    /// The prefix character that identifies this encoding (multibase.csv).
    public var prefix: Character {
        Character(Unicode.Scalar(prefixByte))
    }

    /// The encoding's name as written in multibase.csv, e.g. `"base32upper"`.
    public var name: String {
        switch self {
        case .base2: "base2"
        case .base8: "base8"
        case .base10: "base10"
        case .base16: "base16"
        case .base16upper: "base16upper"
        case .base32hex: "base32hex"
        case .base32hexupper: "base32hexupper"
        case .base32hexpad: "base32hexpad"
        case .base32hexpadupper: "base32hexpadupper"
        case .base32: "base32"
        case .base32upper: "base32upper"
        case .base32pad: "base32pad"
        case .base32padupper: "base32padupper"
        case .base32z: "base32z"
        case .base36: "base36"
        case .base36upper: "base36upper"
        case .base58flickr: "base58flickr"
        case .base58btc: "base58btc"
        case .base64: "base64"
        case .base64pad: "base64pad"
        case .base64url: "base64url"
        case .base64urlpad: "base64urlpad"
        }
    }

    var prefixByte: UInt8 {
        switch self {
        case .base2: UInt8(ascii: "0")
        case .base8: UInt8(ascii: "7")
        case .base10: UInt8(ascii: "9")
        case .base16: UInt8(ascii: "f")
        case .base16upper: UInt8(ascii: "F")
        case .base32hex: UInt8(ascii: "v")
        case .base32hexupper: UInt8(ascii: "V")
        case .base32hexpad: UInt8(ascii: "t")
        case .base32hexpadupper: UInt8(ascii: "T")
        case .base32: UInt8(ascii: "b")
        case .base32upper: UInt8(ascii: "B")
        case .base32pad: UInt8(ascii: "c")
        case .base32padupper: UInt8(ascii: "C")
        case .base32z: UInt8(ascii: "h")
        case .base36: UInt8(ascii: "k")
        case .base36upper: UInt8(ascii: "K")
        case .base58flickr: UInt8(ascii: "Z")
        case .base58btc: UInt8(ascii: "z")
        case .base64: UInt8(ascii: "m")
        case .base64pad: UInt8(ascii: "M")
        case .base64url: UInt8(ascii: "u")
        case .base64urlpad: UInt8(ascii: "U")
        }
    }

    /// The encoding whose prefix is `prefix`, or `nil` if none (or `base256emoji`, unsupported).
    public init?(prefix: Character) {
        guard let ascii = prefix.asciiValue, let base = Self.byPrefix[Int(ascii)] else { return nil }
        self = base
    }

    private static let byPrefix: [Multibase?] = {
        var table = [Multibase?](repeating: nil, count: 128)
        for base in allCases { table[Int(base.prefixByte)] = base }
        return table
    }()

    private enum Codec {
        case bits(BitCodec)
        case radix(RadixAlphabet)
    }

    private static let lowerHex = "0123456789abcdef"
    private static let rfcBase32 = "abcdefghijklmnopqrstuvwxyz234567"
    private static let rfcBase32Hex = "0123456789abcdefghijklmnopqrstuv"
    private static let base36Digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    private static let rfcBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    private static let rfcBase64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    private static let codecs: [Multibase: Codec] = {
        var table: [Multibase: Codec] = [:]
        for base in allCases { table[base] = makeCodec(base) }
        return table
    }()

    private static func makeCodec(_ base: Multibase) -> Codec {
        switch base {
        case .base2: .bits(BitCodec(bitsPerCharacter: 1, alphabet: "01"))
        case .base8: .bits(BitCodec(bitsPerCharacter: 3, alphabet: "01234567"))
        case .base10: .radix(RadixAlphabet("0123456789"))
        case .base16: .bits(BitCodec(bitsPerCharacter: 4, alphabet: lowerHex, caseInsensitive: true))
        case .base16upper: .bits(BitCodec(bitsPerCharacter: 4, alphabet: lowerHex.uppercased(), caseInsensitive: true))
        case .base32hex: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32Hex, caseInsensitive: true))
        case .base32hexupper: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32Hex.uppercased(), caseInsensitive: true))
        case .base32hexpad: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32Hex, padded: true, caseInsensitive: true))
        case .base32hexpadupper:
            .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32Hex.uppercased(), padded: true, caseInsensitive: true))
        case .base32: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32, caseInsensitive: true))
        case .base32upper: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32.uppercased(), caseInsensitive: true))
        case .base32pad: .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32, padded: true, caseInsensitive: true))
        case .base32padupper:
            .bits(BitCodec(bitsPerCharacter: 5, alphabet: rfcBase32.uppercased(), padded: true, caseInsensitive: true))
        case .base32z: .bits(BitCodec(bitsPerCharacter: 5, alphabet: "ybndrfg8ejkmcpqxot1uwisza345h769"))
        case .base36: .radix(RadixAlphabet(base36Digits, caseInsensitive: true))
        case .base36upper: .radix(RadixAlphabet(base36Digits.uppercased(), caseInsensitive: true))
        case .base58flickr: .radix(RadixAlphabet("123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"))
        case .base58btc: .radix(Base58.bitcoin)
        case .base64: .bits(BitCodec(bitsPerCharacter: 6, alphabet: rfcBase64))
        case .base64pad: .bits(BitCodec(bitsPerCharacter: 6, alphabet: rfcBase64, padded: true))
        case .base64url: .bits(BitCodec(bitsPerCharacter: 6, alphabet: rfcBase64URL))
        case .base64urlpad: .bits(BitCodec(bitsPerCharacter: 6, alphabet: rfcBase64URL, padded: true))
        }
    }

    /// Encodes `bytes` in this base without the prefix character.
    public func encodeWithoutPrefix(_ bytes: some Collection<UInt8>) -> String {
        switch Self.codecs[self]! {
        case .bits(let codec): codec.encode(bytes)
        case .radix(let alphabet): RadixCodec.encode(bytes, alphabet: alphabet)
        }
    }

    /// Decodes text in this base that has no prefix character.
    ///
    /// - Throws: ``MultiformatsError`` for characters outside the alphabet, bad padding,
    ///   impossible lengths or non-zero trailing bits.
    public func decodeWithoutPrefix(_ text: some StringProtocol) throws -> [UInt8] {
        try decode(utf8: text.utf8)
    }

    private func decode(utf8: some Collection<UInt8>) throws -> [UInt8] {
        switch Self.codecs[self]! {
        case .bits(let codec): try codec.decode(utf8)
        case .radix(let alphabet): try RadixCodec.decode(utf8, alphabet: alphabet)
        }
    }

    /// Encodes `bytes` as multibase text: the prefix of `base`, then the encoding (multibase spec).
    public static func encode(_ bytes: some Collection<UInt8>, as base: Multibase) -> String {
        String(base.prefix) + base.encodeWithoutPrefix(bytes)
    }

    /// Decodes multibase text, choosing the encoding from its first character (multibase spec).
    ///
    /// - Throws: ``MultiformatsError`` `.unsupportedMultibase` for an empty string or an unknown
    ///   prefix, or the encoding's own error for malformed text.
    public static func decode(_ text: String) throws -> (base: Multibase, bytes: [UInt8]) {
        let utf8 = text.utf8
        guard let first = utf8.first else {
            throw MultiformatsError(.unsupportedMultibase, "empty multibase string")
        }
        guard first < 0x80, let base = byPrefix[Int(first)] else {
            throw MultiformatsError(.unsupportedMultibase, "unknown multibase prefix \(text.prefix(1).debugDescription)")
        }
        return (base, try base.decode(utf8: utf8.dropFirst()))
    }
}
