import Foundation

/// Shared helpers for the 16-byte random identifiers (`MessageID`, `ConversationID`).
enum RandomID16 {
    /// The length of every 16-byte identifier.
    static let length = 16

    /// 16 bytes from the system's cryptographically secure generator.
    static func generate() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: length)
        for index in stride(from: 0, to: length, by: 8) {
            withUnsafeBytes(of: generator.next() as UInt64) { word in
                for offset in 0..<8 { bytes[index + offset] = word[offset] }
            }
        }
        return bytes
    }

    /// Checks the length, naming `what` in the error.
    static func validate(_ bytes: some Collection<UInt8>, what: String) throws -> [UInt8] {
        guard bytes.count == length else {
            throw ChatStoreError(.invalidArgument, "\(what) must be \(length) bytes, not \(bytes.count)")
        }
        return Array(bytes)
    }

    /// Lower-case hex, the text form of these ids.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses 32 hex digits.
    static func parseHex(_ text: String, what: String) throws -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count == length * 2 else {
            throw ChatStoreError(.invalidArgument, "\(what) must be \(length * 2) hex digits")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw ChatStoreError(.invalidArgument, "\(what) must be hex digits")
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(length)
        for index in stride(from: 0, to: utf8.count, by: 2) {
            bytes.append(try nibble(utf8[index]) << 4 | nibble(utf8[index + 1]))
        }
        return bytes
    }
}
