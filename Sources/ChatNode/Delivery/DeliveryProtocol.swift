import LibP2P
import NIOCore

/// Direct delivery on `/p2pchat/msg/1.0.0`: the sender writes envelopes, the receiver answers
/// each with an acknowledgement *after* it has stored the message (ARCHITECTURE.md Delivery §2).
///
/// Every message is `uvarint(length) ‖ protobuf`; several envelopes may be pipelined on one
/// stream and acknowledgements come back in the same order.
/// ```
/// Deliver    { version=1 (varint)  envelope=2 (bytes) }
/// DeliverAck { version=1 (varint)  status=2 (0 stored, 1 duplicate, 2 rejected)  reason=3 (string) }
/// ```
public enum DeliveryProtocol {
    /// The protocol id.
    public static let protocolID = "/p2pchat/msg/1.0.0"
    /// The wire version.
    public static let version: UInt64 = 1
    /// The largest envelope accepted (the biggest padding bucket plus headers fits easily).
    public static let maxEnvelopeLength = 256 * 1024
    /// The largest frame on the wire.
    public static let maxFrameLength = maxEnvelopeLength + 64
    /// The most envelopes a sender may have unacknowledged on one stream.
    public static let maxPipelined = 64

    /// The receiver's verdict on one envelope.
    public enum Status: UInt64, Sendable, Hashable {
        /// Stored now.
        case stored = 0
        /// Already stored earlier (a retry): nothing changed, still a success for the sender.
        case duplicate = 1
        /// Refused (cannot decrypt, replay, malformed); `reason` says why. Not retried as is.
        case rejected = 2
    }

    /// One acknowledgement.
    public struct Ack: Sendable, Hashable {
        /// The verdict.
        public var status: Status
        /// Why it was rejected, for logs and the sender's `failed(reason)`.
        public var reason: String

        public init(status: Status, reason: String = "") {
            self.status = status
            self.reason = reason
        }

        /// Parses an encoded acknowledgement.
        public init(parsing bytes: [UInt8]) throws {
            var reader = ProtobufReader(bytes)
            var status: Status?
            var reason = ""
            var version: UInt64?
            while let field = try reader.next() {
                switch field.number {
                case 1: version = try field.varint()
                case 2: status = Status(rawValue: try field.varint())
                case 3: reason = String(try field.string().prefix(512))
                default: continue
                }
            }
            guard version == DeliveryProtocol.version, let status else {
                throw ChatNodeError(.malformedInput, "delivery ack has no valid version or status")
            }
            self.init(status: status, reason: reason)
        }

        /// The encoded acknowledgement.
        public func encoded() -> [UInt8] {
            var writer = ProtobufWriter()
            writer.writeVarint(field: 1, DeliveryProtocol.version)
            writer.writeVarint(field: 2, status.rawValue)
            if !reason.isEmpty { writer.writeString(field: 3, reason) }
            return writer.bytes
        }
    }

    /// Encodes a `Deliver` message.
    public static func encodeDeliver(_ envelope: [UInt8]) -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, version)
        writer.writeBytes(field: 2, envelope)
        return writer.bytes
    }

    /// Parses a `Deliver` message, returning the envelope.
    public static func parseDeliver(_ bytes: [UInt8]) throws -> [UInt8] {
        var reader = ProtobufReader(bytes)
        var envelope: [UInt8]?
        var messageVersion: UInt64?
        while let field = try reader.next() {
            switch field.number {
            case 1: messageVersion = try field.varint()
            case 2: envelope = try field.bytes()
            default: continue
            }
        }
        guard messageVersion == version, let envelope, !envelope.isEmpty else {
            throw ChatNodeError(.malformedInput, "deliver message has no valid version or envelope")
        }
        return envelope
    }

    /// Reads the next `Deliver` from `stream`; `nil` at a clean end of stream.
    public static func readDeliver(from stream: BufferedByteStream) async throws -> [UInt8]? {
        let length: UInt64
        do {
            length = try await stream.readVarint()
        } catch let error as LibP2PError where error.code == .unexpectedEOF {
            return nil
        }
        guard length <= UInt64(maxFrameLength) else {
            throw ChatNodeError(.limitExceeded, "delivery frame of \(length) bytes exceeds \(maxFrameLength)")
        }
        let body = try await stream.readExactly(Int(length))
        return try parseDeliver(Array(body.readableBytesView))
    }

    /// Reads the next acknowledgement from `stream`.
    public static func readAck(from stream: BufferedByteStream) async throws -> Ack {
        let body = try await stream.readLengthPrefixed(maximumLength: 1024)
        return try Ack(parsing: Array(body.readableBytesView))
    }
}
