import Foundation

/// The append-only files that hold the block store's large blocks: `<store>/segments/<id>.seg`.
///
/// A segment is written only at its end, under the SQLite write lock, and read with one
/// `pread` per block; its id is never reused while the store's `segment` table has rows (ids
/// come from SQLite `AUTOINCREMENT`). What a segment holds, and where, lives in SQLite
/// (``Blockstore``): bytes past a segment's recorded length are garbage left by a writer that
/// died before its commit, and the next append overwrites them. A segment whose last live block
/// is deleted is unlinked. No descriptor is cached: every read and append opens the file, so
/// a segment another process unlinks frees its disk space at once.
///
/// Plain file I/O, no state; the SQL side decides what to write where.
struct SegmentFiles: Sendable {
    /// The directory of segment files.
    let directory: URL

    /// The directory name inside the store.
    static let directoryName = "segments"
    /// The file name suffix.
    static let fileExtension = "seg"

    /// Runs before each read opens its file (tests: to act between a read's row and its bytes).
    let beforeRead: (@Sendable (Int64) -> Void)?

    init(store: URL, beforeRead: (@Sendable (Int64) -> Void)? = nil) {
        directory = store.appendingPathComponent(Self.directoryName, isDirectory: true)
        self.beforeRead = beforeRead
    }

    func path(of id: Int64) -> String {
        directory.appendingPathComponent("\(id).\(Self.fileExtension)").path
    }

    /// Creates (or empties: a crashed writer may have left one under an id SQLite handed out
    /// again) the file of a new segment and syncs the directory, so a durable block in it
    /// cannot lose its file to a power cut.
    func create(_ id: Int64) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let descriptor = try open(id, flags: O_WRONLY | O_CREAT | O_TRUNC)
        Glibc.close(descriptor)
        let directoryDescriptor = Glibc.open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            Glibc.close(directoryDescriptor)
        }
    }

    /// Writes `blocks` one after another at `offset` of segment `id` (one `pwritev` per
    /// 64 blocks). With `durable`, the data is on disk when this returns (`fdatasync`);
    /// otherwise its write-back is started (`sync_file_range`), so the pages can be dropped
    /// from the cache soon (``releaseCachedPages(of:)``).
    func append(_ blocks: [[UInt8]], to id: Int64, at offset: Int64, durable: Bool) throws {
        let descriptor = try open(id, flags: O_WRONLY)
        defer { Glibc.close(descriptor) }
        var position = offset
        var index = 0
        while index < blocks.count {
            let group = blocks[index..<min(index + 64, blocks.count)]
            index += group.count
            try write(group, at: position, to: descriptor, id: id)
            position += Int64(group.reduce(0) { $0 + $1.count })
        }
        if durable {
            guard fdatasync(descriptor) == 0 else { throw failure("sync", id) }
        } else {
            OutputFile.startWriteback(of: descriptor, from: offset, count: position - offset)
        }
    }

    private func write(_ group: ArraySlice<[UInt8]>, at offset: Int64, to descriptor: Int32, id: Int64) throws {
        // The arrays stay alive (and unmoved) for the call: `group` holds them.
        var vectors = group.map { block in
            block.withUnsafeBytes { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
        }
        var position = offset
        var first = 0
        while first < vectors.count {
            let written = withExtendedLifetime(group) {
                vectors[first...].withUnsafeBufferPointer { pwritev(descriptor, $0.baseAddress, Int32($0.count), off_t(position)) }
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("write to", id)
            }
            position += Int64(written)
            var remaining = written
            while first < vectors.count, remaining >= vectors[first].iov_len {
                remaining -= vectors[first].iov_len
                first += 1
            }
            if remaining > 0 {
                vectors[first].iov_base = vectors[first].iov_base.map { $0 + remaining }
                vectors[first].iov_len -= remaining
            }
        }
    }

    /// Waits until segment `id`'s data is on disk (`fdatasync`); a segment unlinked meanwhile
    /// needs nothing.
    func sync(_ id: Int64) throws {
        let descriptor = Glibc.open(path(of: id), O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return }
            throw failure("open", id)
        }
        defer { Glibc.close(descriptor) }
        guard fdatasync(descriptor) == 0 else { throw failure("sync", id) }
    }

    /// Overwrites bytes in place (a test's simulated disk corruption; the store never does).
    func overwrite(_ bytes: [UInt8], in id: Int64, at offset: Int64) throws {
        let descriptor = try open(id, flags: O_WRONLY)
        defer { Glibc.close(descriptor) }
        try write([bytes][...], at: offset, to: descriptor, id: id)
    }

    /// `count` bytes at `offset` of segment `id`.
    ///
    /// - Throws: ``IPFSError`` `.corruptBlock` if the file is missing or shorter than the
    ///   block; `.storageFailed` on other I/O errors.
    func read(_ id: Int64, at offset: Int64, count: Int) throws -> [UInt8] {
        beforeRead?(id)
        let descriptor = Glibc.open(path(of: id), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw IPFSError(.corruptBlock, "segment file \(path(of: id)) is missing") }
            throw failure("open", id)
        }
        defer { Glibc.close(descriptor) }
        var failedErrno: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + done)
                if got < 0 {
                    if errno == EINTR { continue }
                    failedErrno = errno
                    break
                }
                if got == 0 { break }
                done += got
            }
            initialized = done
        }
        if failedErrno != 0 {
            throw IPFSError(.storageFailed, "cannot read segment \(path(of: id)): \(String(cString: strerror(failedErrno)))")
        }
        guard bytes.count == count else {
            throw IPFSError(.corruptBlock, "segment \(path(of: id)) ends inside a block (\(bytes.count) of \(count) bytes at \(offset))")
        }
        return bytes
    }

    /// What deleting blocks leaves to do to the files once the deleting transaction has
    /// committed (never before: a rolled-back delete must find its bytes).
    struct Release: Sendable {
        /// A deleted block's bytes.
        struct Hole: Sendable {
            var segment: Int64
            var offset: Int64
            var count: Int
        }

        /// Segments with no live block left (their rows are deleted).
        var unlinked: Set<Int64> = []
        /// Bytes of deleted blocks in segments that stay.
        var holes: [Hole] = []
    }

    /// Unlinks the dead segments and punches holes where deleted blocks were in the others
    /// (`fallocate(FALLOC_FL_PUNCH_HOLE)`), so their disk space is free at once, whether or
    /// not the segment is ever compacted. No offset of a deleted block is written again
    /// (appends go past a segment's recorded length), so a hole never meets live data. Where
    /// the file system cannot punch holes, the space waits for compaction.
    func apply(_ release: Release) {
        for id in release.unlinked { unlink(path(of: id)) }
        let holes = release.holes.filter { !release.unlinked.contains($0.segment) }
        guard let punch = Self.fallocate else { return }
        for (id, inSegment) in Dictionary(grouping: holes, by: \.segment) {
            let descriptor = Glibc.open(path(of: id), O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            for hole in inSegment {
                _ = punch(descriptor, Self.punchHoleKeepSize, hole.offset, Int64(hole.count))
            }
            Glibc.close(descriptor)
        }
    }

    /// `FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE` (linux/falloc.h).
    private static let punchHoleKeepSize: Int32 = 0x01 | 0x02

    /// glibc's `fallocate`, looked up at run time: Swift's Glibc module does not import it (it
    /// needs `_GNU_SOURCE`).
    private static let fallocate: (@convention(c) (Int32, Int32, Int64, Int64) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, Int64, Int64) -> Int32).self)
    }()

    /// The ids of the segment files present.
    func presentIDs() -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".\(Self.fileExtension)") else { return nil }
            return Int64(name.dropLast(Self.fileExtension.count + 1))
        }
    }

    /// Bytes the segment files take on disk (allocated blocks).
    func diskUsage() -> UInt64 {
        FileSpace.allocatedBytes(ofFilesAt: presentIDs().map(path(of:)))
    }

    private func open(_ id: Int64, flags: Int32) throws -> Int32 {
        let descriptor = Glibc.open(path(of: id), flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("open", id) }
        return descriptor
    }

    private func failure(_ action: String, _ id: Int64) -> IPFSError {
        IPFSError(.storageFailed, "cannot \(action) segment \(path(of: id)): \(String(cString: strerror(errno)))")
    }
}
