/// An alphabet for a positional (big-number) encoding: base10, base36, base58.
///
/// Multibase spec (https://github.com/multiformats/multibase, "base-x" encodings): the input
/// is read as one big-endian number and written in the alphabet's radix; each leading zero
/// byte becomes one leading "zero" character.
struct RadixAlphabet: Sendable {
    /// ASCII characters, index = digit value.
    let characters: [UInt8]
    /// Digit value by ASCII byte; `0xff` for bytes outside the alphabet.
    let values: [UInt8]
    /// Fold ASCII letters to the alphabet's case before decoding.
    let caseInsensitive: Bool

    var radix: Int { characters.count }

    init(_ text: String, caseInsensitive: Bool = false) {
        characters = Array(text.utf8)
        var values = [UInt8](repeating: 0xff, count: 256)
        for (index, character) in characters.enumerated() {
            values[Int(character)] = UInt8(index)
            if caseInsensitive {
                values[Int(asciiLower(character))] = UInt8(index)
                values[Int(asciiUpper(character))] = UInt8(index)
            }
        }
        self.values = values
        self.caseInsensitive = caseInsensitive
    }
}

func asciiLower(_ byte: UInt8) -> UInt8 {
    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) ? byte | 0x20 : byte
}

func asciiUpper(_ byte: UInt8) -> UInt8 {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) ? byte & ~0x20 : byte
}

/// Big-number base conversion shared by ``Base58`` and the base10/base36 multibases.
/// Quadratic in the input length, which is fine for the short values (peer IDs, CIDs) it serves;
/// decoding refuses text longer than ``Base58/maxTextLength`` so peers cannot make it slow.
enum RadixCodec {
    static func encode(_ bytes: some Collection<UInt8>, alphabet: RadixAlphabet) -> String {
        let radix = UInt32(alphabet.radix)
        var zeros = 0
        for byte in bytes {
            guard byte == 0 else { break }
            zeros += 1
        }
        // Little-endian digits in the target radix.
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 2)
        for byte in bytes.dropFirst(zeros) {
            var carry = UInt32(byte)
            for index in digits.indices {
                carry += UInt32(digits[index]) << 8
                digits[index] = UInt8(carry % radix)
                carry /= radix
            }
            while carry > 0 {
                digits.append(UInt8(carry % radix))
                carry /= radix
            }
        }
        var output = [UInt8](repeating: alphabet.characters[0], count: zeros)
        output.reserveCapacity(zeros + digits.count)
        for digit in digits.reversed() {
            output.append(alphabet.characters[Int(digit)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: some Collection<UInt8>, alphabet: RadixAlphabet) throws -> [UInt8] {
        guard text.count <= Base58.maxTextLength else {
            throw MultiformatsError(.tooLarge, "text of \(text.count) characters exceeds \(Base58.maxTextLength)")
        }
        let radix = UInt32(alphabet.radix)
        let zeroCharacter = alphabet.characters[0]
        var zeros = 0
        var leading = true
        // Little-endian bytes of the number.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        for character in text {
            let value = alphabet.values[Int(character)]
            guard value != 0xff else {
                throw MultiformatsError(.invalidCharacter, "byte 0x\(String(character, radix: 16)) is not in the alphabet")
            }
            if leading {
                let folded = alphabet.caseInsensitive ? asciiLower(character) == asciiLower(zeroCharacter) : character == zeroCharacter
                if folded {
                    zeros += 1
                    continue
                }
                leading = false
            }
            var carry = UInt32(value)
            for index in bytes.indices {
                carry += UInt32(bytes[index]) * radix
                bytes[index] = UInt8(truncatingIfNeeded: carry)
                carry >>= 8
            }
            while carry > 0 {
                bytes.append(UInt8(truncatingIfNeeded: carry))
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes.reversed()
    }
}
