import Foundation
import Testing

@testable import IPFS

/// The export's output file: every byte lands in order whatever the chunking, with direct I/O
/// where the file system takes it (the test home on ext4) and buffered where it does not
/// (tmpfs), including an unaligned tail.
@Suite struct OutputFileTests {
    static let directories: [String] = {
        var candidates = [FileManager.default.temporaryDirectory.path]
        if FileManager.default.fileExists(atPath: "/dev/shm") { candidates.append("/dev/shm") }
        return candidates
    }()

    @Test(arguments: directories)
    func writesEveryByteInOrderAcrossTheStagingBuffer(directory: String) throws {
        let path = directory + "/output-file-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // 2.5 staging buffers in uneven chunks, ending off a 4 KiB boundary.
        let total = OutputFile.directChunk * 5 / 2 + 1234
        let content = pseudoRandomBytes(count: total, seed: 99)
        let file = try OutputFile(path: path)
        if Self.takesDirectIO(directory) { #expect(file.isDirect) }
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

    /// Whether `directory` is on ext4 or xfs (which take `O_DIRECT`), from /proc/mounts.
    static func takesDirectIO(_ directory: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        var best: (mountPoint: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let mountPoint = String(fields[1]), type = String(fields[2])
            let contains = mountPoint == "/" || resolved == mountPoint || resolved.hasPrefix(mountPoint + "/")
            if contains && mountPoint.count >= (best?.mountPoint.count ?? -1) { best = (mountPoint, type) }
        }
        return best.map { ["ext4", "xfs"].contains($0.type) } ?? false
    }
}
