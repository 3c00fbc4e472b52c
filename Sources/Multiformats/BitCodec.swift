/// A power-of-two encoding in the RFC 4648 style: base2, base8, base16, base32*, base64*.
///
/// Multibase spec (https://github.com/multiformats/multibase, rfc4648 encodings): bits are
/// taken most significant first, `bitsPerCharacter` at a time; a final partial group is padded
/// with zero bits; padded variants append `=` up to a whole block.
struct BitCodec: Sendable {
    let bitsPerCharacter: Int
    let alphabet: RadixAlphabet
    let padded: Bool

    init(bitsPerCharacter: Int, alphabet: String, padded: Bool = false, caseInsensitive: Bool = false) {
        self.bitsPerCharacter = bitsPerCharacter
        self.alphabet = RadixAlphabet(alphabet, caseInsensitive: caseInsensitive)
        self.padded = padded
    }

    /// Characters per padded block: lcm(8, bits) / bits.
    private var blockCharacters: Int {
        switch bitsPerCharacter {
        case 5: 8
        case 6: 4
        case 3: 8
        default: 8 / bitsPerCharacter
        }
    }

    private func unpaddedLength(byteCount: Int) -> Int {
        (byteCount * 8 + bitsPerCharacter - 1) / bitsPerCharacter
    }

    func encode(_ bytes: some Collection<UInt8>) -> String {
        let mask = UInt32(1 << bitsPerCharacter) - 1
        var output: [UInt8] = []
        output.reserveCapacity(unpaddedLength(byteCount: bytes.count) + blockCharacters)
        var buffer: UInt32 = 0
        var bufferedBits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bufferedBits += 8
            while bufferedBits >= bitsPerCharacter {
                bufferedBits -= bitsPerCharacter
                output.append(alphabet.characters[Int((buffer >> UInt32(bufferedBits)) & mask)])
            }
            buffer &= (1 << UInt32(bufferedBits)) - 1
        }
        if bufferedBits > 0 {
            output.append(alphabet.characters[Int((buffer << UInt32(bitsPerCharacter - bufferedBits)) & mask)])
        }
        if padded {
            while output.count % blockCharacters != 0 {
                output.append(UInt8(ascii: "="))
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    func decode(_ text: some Collection<UInt8>) throws -> [UInt8] {
        var characters = Array(text)
        if padded {
            var padCount = 0
            while characters.last == UInt8(ascii: "=") {
                characters.removeLast()
                padCount += 1
            }
            let expected = (blockCharacters - characters.count % blockCharacters) % blockCharacters
            guard padCount == expected else {
                throw MultiformatsError(.invalidCharacter, "wrong padding: \(padCount) '=' where \(expected) expected")
            }
        }
        let byteCount = characters.count * bitsPerCharacter / 8
        guard unpaddedLength(byteCount: byteCount) == characters.count else {
            throw MultiformatsError(.invalidLength, "\(characters.count) characters cannot encode whole bytes")
        }
        var output: [UInt8] = []
        output.reserveCapacity(byteCount)
        var buffer: UInt32 = 0
        var bufferedBits = 0
        for character in characters {
            let value = alphabet.values[Int(character)]
            guard value != 0xff else {
                throw MultiformatsError(.invalidCharacter, "byte 0x\(String(character, radix: 16)) is not in the alphabet")
            }
            buffer = (buffer << UInt32(bitsPerCharacter)) | UInt32(value)
            bufferedBits += bitsPerCharacter
            if bufferedBits >= 8 {
                bufferedBits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bufferedBits)))
                buffer &= (1 << UInt32(bufferedBits)) - 1
            }
        }
        guard buffer == 0 else {
            throw MultiformatsError(.invalidCharacter, "non-zero padding bits in the final character")
        }
        return output
    }
}
