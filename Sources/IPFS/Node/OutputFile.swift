import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file written front to back and made durable at the end, streaming through a bounded
/// window of the page cache instead of filling it with the whole file.
///
/// Every ``writebackInterval`` bytes, Linux `sync_file_range(SYNC_FILE_RANGE_WRITE)` starts
/// writeback of what was just written without waiting for it; the interval before that one,
/// by then on disk or nearly, is waited for and dropped from the page cache
/// (`posix_fadvise(POSIX_FADV_DONTNEED)`). ``finish()`` syncs the file (`fdatasync`), which
/// only has the last interval left to wait for. A large download thus neither evicts the
/// page cache others use nor grows it by its own size (on a VM, pages the kernel has not
/// touched lately cost many times a reused one), and the final sync is short. Where
/// `sync_file_range` is unavailable the file is written normally and the final sync does the
/// work.
final class OutputFile {
    /// How much is written between writeback starts.
    static let writebackInterval = 8 << 20

    private var descriptor: Int32
    private let path: String
    private var written = 0
    /// Bytes whose writeback has been started.
    private var scheduled = 0
    /// Bytes waited for and dropped from the page cache.
    private var released = 0

    /// Creates (or truncates) the file at `path`.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("create", path) }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Appends `bytes`.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw Self.failure("write", path) }
                offset += count
            }
        }
        written += bytes.count
        guard written - scheduled >= Self.writebackInterval, let syncFileRange = Self.syncFileRange else { return }
        if scheduled > released {
            // The previous interval: wait for its writeback, then let its pages go.
            _ = syncFileRange(descriptor, Int64(released), Int64(scheduled - released), Self.syncFileRangeWaitAndWrite)
            _ = posix_fadvise(descriptor, off_t(released), off_t(scheduled - released), POSIX_FADV_DONTNEED)
            released = scheduled
        }
        _ = syncFileRange(descriptor, Int64(scheduled), Int64(written - scheduled), Self.syncFileRangeWrite)
        scheduled = written
    }

    /// Syncs the data to disk and closes the file.
    func finish() throws {
        defer {
            close(descriptor)
            descriptor = -1
        }
        guard fdatasync(descriptor) == 0 else { throw Self.failure("sync", path) }
    }

    private static func failure(_ operation: String, _ path: String) -> IPFSError {
        IPFSError(.fileFailed, "cannot \(operation) \(path): \(String(cString: strerror(errno)))")
    }

    /// Starts the write-back of a range of a file without waiting for it (Linux
    /// `sync_file_range`; nothing where it is unavailable). Also used for block segments.
    static func startWriteback(of descriptor: Int32, from offset: Int64, count: Int64) {
        _ = syncFileRange?(descriptor, offset, count, syncFileRangeWrite)
    }

    /// `SYNC_FILE_RANGE_WRITE` (linux/fs.h): start writeback.
    private static let syncFileRangeWrite: UInt32 = 2
    /// `SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER`.
    private static let syncFileRangeWaitAndWrite: UInt32 = 1 | 2 | 4

    /// glibc's `sync_file_range`, looked up at run time: Swift's Glibc module does not import
    /// it (it needs `_GNU_SOURCE`).
    private static let syncFileRange: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int64, Int64, UInt32) -> Int32).self)
    }()
}
