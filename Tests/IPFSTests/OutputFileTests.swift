import Foundation
import Testing

@testable import IPFS

/// The export's output file: every byte lands in order whatever the chunking, across the
/// writeback windows (each started, then waited for and dropped from the page cache).
@Suite struct OutputFileTests {
    @Test func writesEveryByteInOrderAcrossWritebackWindows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.url.appendingPathComponent("out.bin").path
        // Three and a half windows in uneven chunks.
        let total = OutputFile.writebackInterval * 7 / 2 + 1234
        let content = pseudoRandomBytes(count: total, seed: 99)
        let file = try OutputFile(path: path)
        var offset = 0
        var step = 1
        while offset < total {
            let count = min(step, total - offset)
            try file.write(Array(content[offset..<offset + count]))
            offset += count
            step = step * 3 + 7
        }
        try file.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(content))
    }

    @Test func aFileThatCannotBeCreatedIsAClearError() {
        let error = #expect(throws: IPFSError.self) { try OutputFile(path: "/nonexistent-directory/out.bin") }
        #expect(error?.code == .fileFailed)
        #expect(error?.message.contains("No such file or directory") == true)
    }
}
