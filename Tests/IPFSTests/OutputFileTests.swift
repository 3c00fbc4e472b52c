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

    @Test(.enabled(if: !isOnTmpfs(FileManager.default.temporaryDirectory.path), "tmpfs keeps file data in the page cache by design"))
    func writtenWindowsLeaveThePageCache() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.url.appendingPathComponent("out.bin").path
        let window = OutputFile.writebackInterval
        let file = try OutputFile(path: path)
        let chunk = pseudoRandomBytes(count: window, seed: 5)
        for _ in 0..<4 { try file.write(chunk) }
        // The first windows have been written back and dropped, the last ones not yet.
        let resident = try residentPages(of: path, length: 4 * window)
        let pagesPerWindow = window / Int(sysconf(Int32(_SC_PAGESIZE)))
        #expect(resident.prefix(2 * pagesPerWindow).filter { $0 }.count <= pagesPerWindow / 10)
        #expect(resident.suffix(pagesPerWindow).filter { $0 }.count >= pagesPerWindow / 2)
        try file.finish()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(Array([[UInt8]](repeating: chunk, count: 4).joined())))
    }

    /// Which pages of the file's first `length` bytes are in the page cache (`mincore` of a
    /// mapping, which itself reads nothing).
    func residentPages(of path: String, length: Int) throws -> [Bool] {
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let mapping = try #require(mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, length) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (length + pageSize - 1) / pageSize)
        #expect(mincore(mapping, length, &vector) == 0)
        return vector.map { $0 & 1 == 1 }
    }

    @Test func aFileThatCannotBeCreatedIsAClearError() {
        let error = #expect(throws: IPFSError.self) { try OutputFile(path: "/nonexistent-directory/out.bin") }
        #expect(error?.code == .fileFailed)
        #expect(error?.message.contains("No such file or directory") == true)
    }
}

/// Whether `path` is on tmpfs (its pages are the file's only copy: never dropped), from the
/// longest mount point in `/proc/mounts` that contains it.
func isOnTmpfs(_ path: String) -> Bool {
    guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
    var best: (point: String, type: String)?
    for line in mounts.split(separator: "\n") {
        let fields = line.split(separator: " ")
        guard fields.count >= 3 else { continue }
        let point = String(fields[1])
        let within = point == "/" || path == point || path.hasPrefix(point + "/")
        if within, point.count > (best?.point.count ?? -1) { best = (point, String(fields[2])) }
    }
    return best?.type == "tmpfs"
}
