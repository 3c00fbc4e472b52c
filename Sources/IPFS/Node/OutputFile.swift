import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file written front to back and made durable at the end, without passing the whole file
/// through the page cache.
///
/// Where the file system takes direct I/O (Linux `O_DIRECT`, e.g. ext4, xfs), the bytes are
/// gathered in one aligned buffer of ``directChunk`` bytes and written straight from it to the
/// disk: no copy into the page cache, no writeback work, no cache to drop, and the final sync
/// has only the unaligned tail (written normally) and the metadata left. Elsewhere (tmpfs,
/// some network file systems) the file is written normally, and every ``writebackInterval``
/// bytes `sync_file_range` starts writeback of what was just written while the interval
/// before it is waited for and dropped from the page cache (`POSIX_FADV_DONTNEED`). Either way
/// a large download neither evicts the page cache others use nor grows it by its own size
/// (on a VM, pages the kernel has not touched lately cost many times a reused one).
final class OutputFile {
    /// The direct-I/O buffer: bytes written per direct write.
    static let directChunk = 4 << 20
    /// Direct I/O alignment (buffer address, offsets and lengths): a page, which covers every
    /// logical block size in use.
    static let directAlignment = 4096
    /// Buffered mode: how much is written between writeback starts.
    static let writebackInterval = 8 << 20

    private var descriptor: Int32
    private let path: String
    /// The aligned staging buffer while writing with `O_DIRECT`; `nil` in buffered mode.
    private var staging: UnsafeMutableRawBufferPointer?
    private var staged = 0
    private var written = 0
    /// Buffered mode: bytes whose writeback has been started.
    private var scheduled = 0
    /// Buffered mode: bytes waited for and dropped from the page cache.
    private var released = 0

    /// Creates (or truncates) the file at `path`.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("create", path) }
        if Self.setDirect(descriptor, true) {
            var memory: UnsafeMutableRawPointer?
            if posix_memalign(&memory, Self.directAlignment, Self.directChunk) == 0, let memory {
                staging = UnsafeMutableRawBufferPointer(start: memory, count: Self.directChunk)
            } else {
                _ = Self.setDirect(descriptor, false)
            }
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        staging.map { free($0.baseAddress) }
    }

    /// Whether the file is being written with direct I/O.
    var isDirect: Bool { staging != nil }

    /// Appends `bytes`.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { source in
            guard let staging else { return try writeBuffered(source) }
            var offset = 0
            while offset < source.count {
                let count = min(source.count - offset, staging.count - staged)
                UnsafeMutableRawBufferPointer(rebasing: staging[staged..<staged + count])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + count]))
                staged += count
                offset += count
                if staged == staging.count { try flushStaging(count: staged) }
            }
        }
    }

    /// Writes what is staged and syncs the data to disk, then closes the file.
    func finish() throws {
        defer {
            close(descriptor)
            descriptor = -1
        }
        if staging != nil {
            // The aligned part goes out directly; the tail without O_DIRECT.
            let aligned = staged / Self.directAlignment * Self.directAlignment
            if aligned > 0 { try flushStaging(count: aligned) }
            if staged > 0 {
                guard Self.setDirect(descriptor, false) else { throw Self.failure("clear O_DIRECT on", path) }
                try writeAll(UnsafeRawBufferPointer(rebasing: staging![0..<staged]))
                staged = 0
            }
        }
        guard fdatasync(descriptor) == 0 else { throw Self.failure("sync", path) }
    }

    /// Writes the first `count` staged bytes (a multiple of the alignment) directly and keeps
    /// the rest at the start of the buffer.
    private func flushStaging(count: Int) throws {
        let staging = staging!
        do {
            try writeAll(UnsafeRawBufferPointer(rebasing: staging[0..<count]))
        } catch where errno == EINVAL && written % Self.directAlignment == 0 {
            // The file system took the flag but refuses direct writes: carry on buffered.
            guard Self.setDirect(descriptor, false) else { throw Self.failure("clear O_DIRECT on", path) }
            try writeAll(UnsafeRawBufferPointer(rebasing: staging[0..<staged]))
            self.staging = nil
            staged = 0
            free(staging.baseAddress)
            return
        }
        let rest = staged - count
        if rest > 0 {
            UnsafeMutableRawBufferPointer(rebasing: staging[0..<rest])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: staging[count..<staged]))
        }
        staged = rest
    }

    private func writeBuffered(_ source: UnsafeRawBufferPointer) throws {
        try writeAll(source)
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

    private func writeAll(_ source: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < source.count {
            let count = Glibc.write(descriptor, source.baseAddress! + offset, source.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Self.failure("write", path) }
            offset += count
        }
        written += source.count
    }

    private static func failure(_ operation: String, _ path: String) -> IPFSError {
        IPFSError(.fileFailed, "cannot \(operation) \(path): \(String(cString: strerror(errno)))")
    }

    /// Linux `O_DIRECT` (not exported by Swift's Glibc module: it needs `_GNU_SOURCE`).
    #if arch(x86_64) || arch(i386)
    private static let oDirect: Int32 = 0o40000
    #else
    private static let oDirect: Int32 = 0o200000
    #endif

    /// Turns direct I/O on or off for `descriptor`; whether it took.
    private static func setDirect(_ descriptor: Int32, _ on: Bool) -> Bool {
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0 else { return false }
        return fcntl(descriptor, F_SETFL, on ? flags | oDirect : flags & ~oDirect) == 0
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
