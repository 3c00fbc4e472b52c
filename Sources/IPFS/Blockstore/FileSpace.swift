import Foundation

/// What the block store's files cost the machine, and letting go of it: the page cache they
/// hold and the disk blocks they take. Plain functions on paths.
enum FileSpace {
    /// Drops the file's clean cached pages (`POSIX_FADV_DONTNEED`; dirty pages and pages under
    /// write-back stay). Nothing happens if the file cannot be opened.
    static func dropCachedPages(atPath path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        close(descriptor)
    }

    /// Bytes the files take on disk (allocated blocks: holes and unwritten tails do not
    /// count); missing files count 0.
    static func allocatedBytes(ofFilesAt paths: some Sequence<String>) -> UInt64 {
        paths.reduce(0) { total, path in
            var info = stat()
            return stat(path, &info) == 0 ? total + UInt64(info.st_blocks) * 512 : total
        }
    }
}
