import Foundation

/// Writes result lines to stdout immediately (stdout is block-buffered when it is a pipe, and
/// scripts wait for these lines).
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
