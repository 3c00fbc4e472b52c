/// Base58 with the Bitcoin alphabet ("base58btc").
///
/// The text form of peer IDs (`12D3KooW…`, `Qm…`) and CIDv0, and multibase prefix `z`
/// (https://github.com/multiformats/multibase, draft-msporny-base58). Each leading zero byte
/// is written as one `1`.
public enum Base58 {
    /// The Bitcoin base58 alphabet.
    public static let bitcoinAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

    /// The longest text ``decode(_:)`` (and the other big-number multibases) accept.
    ///
    /// Decoding is quadratic; 4096 characters is far beyond any CID or peer ID.
    public static let maxTextLength = 4096

    static let bitcoin = RadixAlphabet(bitcoinAlphabet)

    /// Encodes `bytes` as base58btc text, without a multibase prefix.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        RadixCodec.encode(bytes, alphabet: bitcoin)
    }

    /// Decodes base58btc text without a multibase prefix.
    ///
    /// - Throws: ``MultiformatsError`` `.invalidCharacter` for characters outside the alphabet,
    ///   `.tooLarge` for text longer than ``maxTextLength``.
    public static func decode(_ text: String) throws -> [UInt8] {
        try RadixCodec.decode(text.utf8, alphabet: bitcoin)
    }
}
