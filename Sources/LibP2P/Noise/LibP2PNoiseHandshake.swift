import Crypto
import NIOCore

/// Secures a raw connection with the libp2p Noise handshake (libp2p specs noise/README.md):
/// `Noise_XX_25519_ChaChaPoly_SHA256`, empty prologue, a fresh X25519 static key per connection,
/// the identity proven by the handshake payload, and early muxer negotiation.
public enum LibP2PNoiseHandshake {
    /// The multistream-select protocol id for Noise.
    public static let protocolID = "/noise"
    /// The largest handshake message (u16 length prefix).
    public static let maxMessageLength = 65535

    /// The outcome of a successful handshake.
    public struct Result: Sendable {
        /// The encrypted connection.
        public var stream: NoiseSecuredStream
        /// The authenticated remote peer.
        public var remotePeerID: PeerID
        /// The remote identity key.
        public var remotePublicKey: PublicKey
        /// The muxer agreed inside the handshake, or `nil` if it must be negotiated with multistream.
        public var earlyMuxer: String?
    }

    /// Runs the handshake as initiator (the dialer).
    ///
    /// - Parameter expectedPeer: the PeerID from the dialed `/p2p/` component; a different
    ///   remote identity fails with `.peerIDMismatch`.
    public static func initiate(
        on stream: BufferedByteStream,
        identity: IdentityKeyPair,
        expectedPeer: PeerID?,
        muxers: [String]
    ) async throws -> Result {
        let staticKey = Curve25519.KeyAgreement.PrivateKey()
        var handshake = NoiseXXHandshake(role: .initiator, staticKey: staticKey)
        try await writeFrame(handshake.writeMessage(payload: []), to: stream)
        let remotePayloadBytes = try handshake.readMessage(try await readFrame(from: stream))
        let remote = try authenticate(remotePayloadBytes, handshake: handshake, expectedPeer: expectedPeer)
        let ours = try makePayload(identity: identity, staticKey: staticKey, muxers: muxers)
        try await writeFrame(handshake.writeMessage(payload: ours.encoded()), to: stream)
        let (send, receive) = try handshake.split()
        let muxer = muxers.first { remote.payload.streamMuxers.contains($0) }
        return Result(
            stream: NoiseSecuredStream(underlying: stream.underlying, send: send, receive: receive, bufferedInput: stream.takePending()),
            remotePeerID: remote.peerID, remotePublicKey: remote.key, earlyMuxer: muxer)
    }

    /// Runs the handshake as responder (the listener).
    public static func respond(
        on stream: BufferedByteStream,
        identity: IdentityKeyPair,
        muxers: [String]
    ) async throws -> Result {
        let staticKey = Curve25519.KeyAgreement.PrivateKey()
        var handshake = NoiseXXHandshake(role: .responder, staticKey: staticKey)
        _ = try handshake.readMessage(try await readFrame(from: stream))
        let ours = try makePayload(identity: identity, staticKey: staticKey, muxers: muxers)
        try await writeFrame(handshake.writeMessage(payload: ours.encoded()), to: stream)
        let remotePayloadBytes = try handshake.readMessage(try await readFrame(from: stream))
        let remote = try authenticate(remotePayloadBytes, handshake: handshake, expectedPeer: nil)
        let (send, receive) = try handshake.split()
        let muxer = remote.payload.streamMuxers.first { muxers.contains($0) }
        return Result(
            stream: NoiseSecuredStream(underlying: stream.underlying, send: send, receive: receive, bufferedInput: stream.takePending()),
            remotePeerID: remote.peerID, remotePublicKey: remote.key, earlyMuxer: muxer)
    }

    static func makePayload(identity: IdentityKeyPair, staticKey: Curve25519.KeyAgreement.PrivateKey, muxers: [String]) throws -> NoiseHandshakePayload {
        let signature = try identity.sign(NoiseHandshakePayload.signaturePrefix + Array(staticKey.publicKey.rawRepresentation))
        return NoiseHandshakePayload(identityKey: identity.publicKey.protobufBytes, identitySignature: signature, streamMuxers: muxers)
    }

    /// Checks the remote payload: a decodable identity key, a valid signature over the remote
    /// static key, and the expected PeerID.
    static func authenticate(
        _ bytes: [UInt8], handshake: NoiseXXHandshake, expectedPeer: PeerID?
    ) throws -> (payload: NoiseHandshakePayload, key: PublicKey, peerID: PeerID) {
        let payload = try NoiseHandshakePayload(parsing: bytes)
        guard let remoteStatic = handshake.remoteStaticKey else {
            throw LibP2PError(.handshakeFailed, "no remote static key after the handshake message")
        }
        let key: PublicKey
        do {
            key = try PublicKey(protobufBytes: payload.identityKey)
        } catch {
            throw LibP2PError(.handshakeFailed, "remote identity key is not acceptable", underlying: error)
        }
        let signed = NoiseHandshakePayload.signaturePrefix + Array(remoteStatic.rawRepresentation)
        guard key.verify(signature: payload.identitySignature, for: signed) else {
            throw LibP2PError(.invalidSignature, "remote identity signature over the noise static key does not verify")
        }
        let peerID = PeerID(publicKey: key)
        if let expectedPeer, expectedPeer != peerID {
            throw LibP2PError(.peerIDMismatch, "peer id mismatch: dialed \(expectedPeer) but the remote is \(peerID)")
        }
        return (payload, key, peerID)
    }

    static func writeFrame(_ message: [UInt8], to stream: BufferedByteStream) async throws {
        guard message.count <= maxMessageLength else {
            throw LibP2PError(.frameTooLarge, "noise handshake message of \(message.count) bytes")
        }
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt16(message.count))
        buffer.writeBytes(message)
        try await stream.write(buffer)
    }

    static func readFrame(from stream: BufferedByteStream) async throws -> [UInt8] {
        let header = try await stream.readExactly(2)
        let length = Int(header.getInteger(at: header.readerIndex, as: UInt16.self)!)
        let body = try await stream.readExactly(length)
        return body.getBytes(at: body.readerIndex, length: length) ?? []
    }
}
