import Foundation

/// Writes result lines to stdout immediately (stdout is block-buffered when it is a pipe, and
/// scripts wait for these lines).
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}

extension Output {
    /// Pretty, key-sorted JSON on one write.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
