import Multiformats
import NIOCore

/// Protocol negotiation with multistream-select 1.0.0 (libp2p specs connections/README.md
/// §multistream-select), over any `ByteStream`. The result is a `BufferedByteStream` so that
/// bytes the peer sent right after the last token (optimistic data, the first Noise message)
/// reach the next protocol.
public enum MultistreamSelect {
    /// How many protocols a peer may propose on one stream before we give up on it.
    public static let maxProposals = 32

    /// The outcome of a negotiation: the agreed protocol and the stream to continue on.
    public struct Negotiated: Sendable {
        /// The agreed protocol id.
        public var protocolID: String
        /// The stream, with any bytes already read past the negotiation.
        public var stream: BufferedByteStream
    }

    /// Dialer side: proposes `protocols` in order until the peer echoes one.
    ///
    /// The header and the first proposal go out in one write. Throws `.protocolNotSupported`
    /// when the peer answers `na` to all of them.
    public static func select(_ protocols: [String], on stream: any ByteStream) async throws -> Negotiated {
        precondition(!protocols.isEmpty, "select needs at least one protocol")
        let buffered = BufferedByteStream(stream)
        try await buffered.writeMultistreamMessages([.header, MultistreamMessage(protocols[0])])
        let header = try await buffered.readMultistreamMessage()
        guard header == .header else {
            throw LibP2PError(.malformedInput, "expected multistream header, got \"\(header.token.prefix(64))\"")
        }
        for (index, protocolID) in protocols.enumerated() {
            if index > 0 {
                try await buffered.writeMultistreamMessages([MultistreamMessage(protocolID)])
            }
            let answer = try await buffered.readMultistreamMessage()
            if answer.token == protocolID {
                return Negotiated(protocolID: protocolID, stream: buffered)
            }
            guard answer == .notAvailable else {
                throw LibP2PError(.malformedInput, "unexpected multistream answer \"\(answer.token.prefix(64))\" to \(protocolID)")
            }
        }
        throw LibP2PError(.protocolNotSupported, "peer supports none of \(protocols.joined(separator: ", "))")
    }

    /// Listener side: answers proposals until one is in `supported`, echoing it.
    ///
    /// Unknown protocols (including `/libp2p/simultaneous-connect`, which Kubo sends on every
    /// dial) get `na`; `ls` gets the list of `supported` protocols.
    public static func handle(
        on stream: any ByteStream,
        supports isSupported: (String) -> Bool,
        listing: () -> [String] = { [] }
    ) async throws -> Negotiated {
        let buffered = BufferedByteStream(stream)
        try await buffered.writeMultistreamMessages([.header])
        let header = try await buffered.readMultistreamMessage()
        guard header == .header else {
            throw LibP2PError(.malformedInput, "expected multistream header, got \"\(header.token.prefix(64))\"")
        }
        for _ in 0..<maxProposals {
            let proposal = try await buffered.readMultistreamMessage()
            if proposal == .list {
                var inner = ByteBuffer()
                for protocolID in listing() { MultistreamMessage(protocolID).encode(into: &inner) }
                inner.writeInteger(UInt8(ascii: "\n"))
                var framed = ByteBuffer()
                framed.writeBytes(Varint.encode(UInt64(inner.readableBytes)))
                framed.writeBuffer(&inner)
                try await buffered.write(framed)
                continue
            }
            if proposal != .simultaneousConnect, isSupported(proposal.token) {
                try await buffered.writeMultistreamMessages([proposal])
                return Negotiated(protocolID: proposal.token, stream: buffered)
            }
            try await buffered.writeMultistreamMessages([.notAvailable])
        }
        throw LibP2PError(.limitExceeded, "peer proposed more than \(maxProposals) protocols")
    }
}
