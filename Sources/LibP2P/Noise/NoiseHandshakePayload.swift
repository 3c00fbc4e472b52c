/// The libp2p Noise handshake payload (libp2p specs noise/README.md §The libp2p Handshake Payload):
///
/// ```
/// message NoiseExtensions { repeated bytes webtransport_certhashes = 1; repeated string stream_muxers = 2; }
/// message NoiseHandshakePayload { optional bytes identity_key = 1; optional bytes identity_sig = 2;
///                                 optional NoiseExtensions extensions = 4; }
/// ```
/// py-libp2p adds a non-standard `early_data = 3` inside the extensions; it is ignored.
public struct NoiseHandshakePayload: Hashable, Sendable {
    /// The sender's serialized libp2p `PublicKey`.
    public var identityKey: [UInt8]
    /// Signature by the identity key over `"noise-libp2p-static-key:" ‖ static X25519 key`.
    public var identitySignature: [UInt8]
    /// Muxers the sender supports, in preference order (early muxer negotiation,
    /// libp2p specs connections/inlined-muxer-negotiation.md).
    public var streamMuxers: [String]
    /// WebTransport certificate hashes (unused on TCP, carried for completeness).
    public var webtransportCerthashes: [[UInt8]]

    /// The prefix of the signed message (spec §Static Key Authentication).
    public static let signaturePrefix = Array("noise-libp2p-static-key:".utf8)

    public init(identityKey: [UInt8], identitySignature: [UInt8], streamMuxers: [String] = [], webtransportCerthashes: [[UInt8]] = []) {
        self.identityKey = identityKey
        self.identitySignature = identitySignature
        self.streamMuxers = streamMuxers
        self.webtransportCerthashes = webtransportCerthashes
    }

    /// Parses an encoded payload; both identity fields are required by libp2p.
    public init(parsing bytes: [UInt8]) throws {
        var key: [UInt8]?
        var signature: [UInt8]?
        var muxers: [String] = []
        var certhashes: [[UInt8]] = []
        var reader = ProtobufReader(bytes)
        while let field = try reader.next() {
            switch field.number {
            case 1: key = try field.bytes()
            case 2: signature = try field.bytes()
            case 4:
                var extensions = ProtobufReader(try field.bytes())
                while let inner = try extensions.next() {
                    switch inner.number {
                    case 1: certhashes.append(try inner.bytes())
                    case 2: muxers.append(try inner.string())
                    default: continue
                    }
                }
            default: continue
            }
        }
        guard let key, let signature else {
            throw LibP2PError(.handshakeFailed, "noise payload lacks identity_key or identity_sig")
        }
        self.init(identityKey: key, identitySignature: signature, streamMuxers: muxers, webtransportCerthashes: certhashes)
    }

    /// The encoded payload.
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeBytes(field: 1, identityKey)
        writer.writeBytes(field: 2, identitySignature)
        if !streamMuxers.isEmpty || !webtransportCerthashes.isEmpty {
            var extensions = ProtobufWriter()
            for hash in webtransportCerthashes { extensions.writeBytes(field: 1, hash) }
            for muxer in streamMuxers { extensions.writeString(field: 2, muxer) }
            writer.writeBytes(field: 4, extensions.bytes)
        }
        return writer.bytes
    }
}
