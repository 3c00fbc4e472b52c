import Multiformats
import NIOCore

/// One multistream-select 1.0.0 message: `uvarint(len) ‖ utf8 ‖ '\n'`, where the length
/// counts the newline (libp2p specs connections/README.md §multistream-select;
/// multiformats/multistream-select README).
public struct MultistreamMessage: Hashable, Sendable, CustomStringConvertible {
    /// The token without its trailing newline, e.g. `/noise` or `na`.
    public var token: String

    /// The largest message accepted, newline included (go-multistream 0.4: tokens over 1024 bytes are an error).
    public static let maxMessageLength = 1024

    /// The protocol header both sides send first.
    public static let header = MultistreamMessage("/multistream/1.0.0")
    /// The answer to a protocol this side does not support.
    public static let notAvailable = MultistreamMessage("na")
    /// The request for the list of supported protocols.
    public static let list = MultistreamMessage("ls")
    /// What go-libp2p's dialer sends for the deprecated simultaneous-open extension
    /// (libp2p specs connections/simopen.md); a plain responder answers `na`.
    public static let simultaneousConnect = MultistreamMessage("/libp2p/simultaneous-connect")

    public init(_ token: String) {
        self.token = token
    }

    /// Parses a message body (the bytes after the length prefix).
    public init(parsing body: ByteBuffer) throws {
        guard body.readableBytes <= Self.maxMessageLength else {
            throw LibP2PError(.frameTooLarge, "multistream message of \(body.readableBytes) bytes exceeds \(Self.maxMessageLength)")
        }
        guard body.readableBytes >= 1, body.getInteger(at: body.readerIndex + body.readableBytes - 1, as: UInt8.self) == UInt8(ascii: "\n") else {
            throw LibP2PError(.malformedInput, "multistream message does not end in a newline")
        }
        let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes - 1) ?? []
        guard let token = String(validating: bytes, as: UTF8.self) else {
            throw LibP2PError(.malformedInput, "multistream message is not UTF-8")
        }
        guard !token.contains("\n") else {
            throw LibP2PError(.malformedInput, "multistream token contains a newline")
        }
        self.token = token
    }

    /// Appends the framed message to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        let body = Array(token.utf8) + [UInt8(ascii: "\n")]
        buffer.writeBytes(Varint.encode(UInt64(body.count)))
        buffer.writeBytes(body)
    }

    public var description: String { token }
}

extension BufferedByteStream {
    /// Reads one multistream-select message.
    public func readMultistreamMessage() async throws -> MultistreamMessage {
        let body = try await readLengthPrefixed(maximumLength: MultistreamMessage.maxMessageLength)
        return try MultistreamMessage(parsing: body)
    }

    /// Writes several multistream-select messages in one write (one packet where possible).
    public func writeMultistreamMessages(_ messages: [MultistreamMessage]) async throws {
        var buffer = ByteBuffer()
        for message in messages { message.encode(into: &buffer) }
        try await write(buffer)
    }
}
