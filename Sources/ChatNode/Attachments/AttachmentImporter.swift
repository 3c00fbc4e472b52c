import Foundation
import IPFS
import IPLD
import Multiformats

/// Encrypts a file and imports the encrypted blob as a UnixFS DAG (CIDv1, raw leaves) into a
/// block store, pinned, streaming: one encrypted chunk and one importer batch in memory at a
/// time, whatever the file's size.
struct AttachmentImporter {
    /// What an import produced.
    struct Imported: Sendable {
        /// The root of the blob's DAG.
        var cid: CID
        /// The file's size.
        var fileSize: UInt64
        /// The encrypted blob's size.
        var blobSize: UInt64
    }

    /// UnixFS settings for blobs: CIDv1 with raw leaves (Kubo's `--cid-version 1`).
    static let importOptions = UnixFSImporter.Options(cidVersion: .v1, rawLeaves: true)

    let blockstore: Blockstore

    /// Encrypts `file` with `key` and imports it. `progress` gets the file bytes done and the total.
    ///
    /// - Throws: ``ChatNodeError`` `.malformedInput` when the file cannot be read or changes
    ///   size while it is read; `.limitExceeded` above ``AttachmentLayout/maximumFileSize``;
    ///   ``IPFSError`` when the store fails.
    func importFile(at file: URL, key: AttachmentKey, progress: ((UInt64, UInt64) -> Void)? = nil) throws -> Imported {
        let handle: FileHandle
        let size: UInt64
        do {
            handle = try FileHandle(forReadingFrom: file)
            size = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
        } catch {
            throw ChatNodeError(.malformedInput, "cannot read \(file.path): \(error.localizedDescription)", underlying: error)
        }
        defer { try? handle.close() }
        var encryptor = try AttachmentEncryptor(key: key, fileSize: size)
        var pending: [UInt8] = []
        var pendingOffset = 0
        var fileDone: UInt64 = 0
        let read: (Int) throws -> [UInt8] = { maxCount in
            if pendingOffset == pending.count {
                guard !encryptor.isFinished else {
                    guard try Self.read(handle, count: 1, file: file).isEmpty else {
                        throw ChatNodeError(.malformedInput, "\(file.path) grew while it was being sent")
                    }
                    return []
                }
                let wanted = encryptor.nextFileByteCount
                let plain = try Self.read(handle, count: wanted, file: file)
                guard plain.count == wanted else {
                    throw ChatNodeError(.malformedInput, "\(file.path) shrank while it was being sent")
                }
                pending = try encryptor.sealNextChunk(plain)
                pendingOffset = 0
                fileDone += UInt64(wanted)
                progress?(fileDone, size)
            }
            let end = min(pending.count, pendingOffset + maxCount)
            defer { pendingOffset = end }
            return Array(pending[pendingOffset..<end])
        }
        let root = try importBlob(read: read)
        return Imported(cid: root, fileSize: size, blobSize: encryptor.layout.blobSize)
    }

    /// Imports an already encrypted blob (tests: tampered blobs).
    func importBlob(_ blob: [UInt8]) throws -> CID {
        var offset = 0
        return try importBlob(read: { maxCount in
            let end = min(blob.count, offset + maxCount)
            defer { offset = end }
            return Array(blob[offset..<end])
        })
    }

    private func importBlob(read: (Int) throws -> [UInt8]) throws -> CID {
        try blockstore.importFile(read: read, options: Self.importOptions)
    }

    /// Reads exactly `count` bytes unless the file ends first.
    private static func read(_ handle: FileHandle, count: Int, file: URL) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            let piece: Data?
            do {
                piece = try handle.read(upToCount: count - bytes.count)
            } catch {
                throw ChatNodeError(.malformedInput, "cannot read \(file.path): \(error.localizedDescription)", underlying: error)
            }
            guard let piece, !piece.isEmpty else { break }
            bytes.append(contentsOf: piece)
        }
        return bytes
    }
}
