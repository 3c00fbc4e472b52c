import Foundation
import Multiformats

extension UnixFSImporter {
    /// Imports the file behind `fileHandle`, from its current offset to its end, streaming.
    public func importFile(
        fileHandle: FileHandle, progress: ((UInt64) -> Void)? = nil, sink: BlockSink
    ) throws -> Entry {
        try importFile(read: { maxCount in [UInt8](try fileHandle.read(upToCount: maxCount) ?? Data()) }, progress: progress, sink: sink)
    }
}

extension CARReader {
    /// Starts reading a CAR from `fileHandle`, from its current offset.
    public init(fileHandle: FileHandle) throws {
        try self.init(read: { maxCount in [UInt8](try fileHandle.read(upToCount: maxCount) ?? Data()) })
    }
}
