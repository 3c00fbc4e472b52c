import ChatStore
import Foundation
import Multiformats

/// The body of an attachment message (content kind `attachment`): everything the recipient
/// needs to fetch, decrypt and name the file. It travels only inside the end-to-end encryption.
///
/// JSON: `{"v":1,"type":"attachment","scheme":"…","cid":"bafy…","key":"<base64>","name":"a.pdf",
/// "size":1234,"mediaType":"application/pdf","text":"optional caption"}`.
public struct AttachmentContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 1
    /// The longest file name accepted, in UTF-8 bytes.
    public static let maximumNameLength = 1024
    /// The longest media type accepted.
    public static let maximumMediaTypeLength = 255
    /// The longest caption accepted, in UTF-8 bytes.
    public static let maximumTextLength = 8 * 1024
    /// The longest CID text accepted.
    public static let maximumCIDLength = 256

    /// Always `version`.
    public var v: Int
    /// Always `attachment`.
    public var type: String
    /// The blob encryption scheme, ``AttachmentLayout/scheme``.
    public var scheme: String
    /// The root CID of the encrypted blob's UnixFS DAG.
    public var cid: String
    /// The blob key, base64.
    public var key: String
    /// The file name the sender used (sanitize before use: ``AttachmentFileName``).
    public var name: String
    /// The file's size in bytes (before padding and encryption).
    public var size: UInt64
    /// The media type, e.g. `image/png`.
    public var mediaType: String
    /// An optional caption.
    public var text: String?

    /// The content for a blob imported as `cid` with `key`.
    public init(cid: CID, key: AttachmentKey, name: String, size: UInt64, mediaType: String, text: String?) {
        self.v = Self.version
        self.type = "attachment"
        self.scheme = AttachmentLayout.scheme
        self.cid = cid.description
        self.key = key.serialized.base64EncodedString()
        self.name = name
        self.size = size
        self.mediaType = mediaType
        self.text = text
    }

    /// Parses and checks an attachment body; anything malformed or over a limit is `.malformedInput`.
    public init(parsing body: String) throws {
        guard let decoded = try? JSONDecoder().decode(AttachmentContent.self, from: Data(body.utf8)) else {
            throw ChatNodeError(.malformedInput, "attachment message body does not parse")
        }
        guard decoded.v == Self.version, decoded.type == "attachment" else {
            throw ChatNodeError(.malformedInput, "attachment message of unknown version \(decoded.v) or type \(decoded.type)")
        }
        guard decoded.scheme == AttachmentLayout.scheme else {
            throw ChatNodeError(.malformedInput, "attachment encrypted with unknown scheme \(decoded.scheme.prefix(64))")
        }
        guard decoded.name.utf8.count <= Self.maximumNameLength, decoded.mediaType.utf8.count <= Self.maximumMediaTypeLength,
              (decoded.text?.utf8.count ?? 0) <= Self.maximumTextLength, decoded.cid.utf8.count <= Self.maximumCIDLength,
              decoded.size <= AttachmentLayout.maximumFileSize
        else {
            throw ChatNodeError(.malformedInput, "attachment message exceeds a limit (name, media type, caption, CID or size)")
        }
        _ = try decoded.rootCID
        _ = try decoded.blobKey
        self = decoded
    }

    /// The root CID.
    public var rootCID: CID {
        get throws {
            do { return try CID(parsing: cid) } catch {
                throw ChatNodeError(.malformedInput, "attachment CID does not parse", underlying: error)
            }
        }
    }

    /// The blob key.
    public var blobKey: AttachmentKey {
        get throws {
            guard let bytes = Data(base64Encoded: key) else {
                throw ChatNodeError(.malformedInput, "attachment key is not base64")
            }
            return try AttachmentKey(bytes: bytes)
        }
    }

    /// The text to show for a message: an attachment's caption (never its JSON body, which
    /// holds the key), any other message's body.
    public static func displayText(of message: ChatMessage) -> String {
        guard message.kind == .attachment else { return message.body }
        return (try? AttachmentContent(parsing: message.body))?.text ?? ""
    }

    /// The searchable text of an attachment message: `📎 name` and the caption.
    static func searchText(of message: ChatMessage) -> String {
        guard let content = try? AttachmentContent(parsing: message.body) else { return "📎" }
        return "📎 \(content.name)" + (content.text.map { " — \($0)" } ?? "")
    }

    /// The JSON body.
    public var body: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
