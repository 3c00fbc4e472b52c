import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A request body that throws `ChatWebError` `.tooLarge` once more than `limit` bytes arrived,
/// so an upload is refused while it streams instead of after it filled the disk.
struct UploadBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let base: Base
    let limit: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int64
        var received: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            received += Int64(buffer.readableBytes)
            guard received <= limit else {
                throw ChatWebError(.tooLarge, "file over \(limit) bytes, the most the web UI sends")
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit)
    }
}

/// `Content-Disposition` for a download: an ASCII `filename` (others replaced by `_`) for old
/// clients and the exact name as RFC 5987 `filename*`. `name` is already sanitized.
func contentDisposition(fileName name: String) -> String {
    let ascii = String(name.unicodeScalars.map { scalar -> Character in
        scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar != "%" ? Character(scalar) : "_"
    })
    var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
    allowed.insert(charactersIn: "!#$&+-.^_`|~")
    let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
    return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
}

extension HTTPField.Name {
    /// `X-P2PChat-File-Name`: an uploaded file's name, percent-encoded UTF-8 (`encodeURIComponent`).
    static let p2pchatFileName = HTTPField.Name("X-P2PChat-File-Name")!
    /// `X-P2PChat-Caption`: an uploaded file's optional caption, percent-encoded UTF-8.
    static let p2pchatCaption = HTTPField.Name("X-P2PChat-Caption")!
}
