import LibP2P
import Multiformats
import NIOCore

/// One open `/p2pchat/mailbox/1.0.0` stream to a mailbox, carrying signed requests one after
/// another. `MailboxClient` opens one per call; keep one yourself to send many requests
/// (e.g. a batch of deposits) without a stream negotiation each.
public actor MailboxSession {
    /// The stream.
    let stream: BufferedByteStream
    /// The mailbox's peer id bytes, bound into every signature.
    let mailboxPeerID: [UInt8]
    let clock: MailboxClock

    /// Opens a mailbox stream on `connection` (which must be to the mailbox).
    public init(connection: Connection, clock: MailboxClock = .system) async throws {
        do {
            let negotiated = try await connection.newStream(protocols: [MailboxProtocol.protocolID])
            stream = negotiated.stream
        } catch {
            throw MailboxError(.connectionFailed, "cannot open a mailbox stream to \(connection.remotePeer)", underlying: error)
        }
        mailboxPeerID = connection.remotePeer.multihash.bytes
        self.clock = clock
    }

    /// Sends one request signed with `sign` and returns the answer, throwing the mailbox's
    /// error if it refused.
    func send(
        _ operation: MailboxRequest.Operation, queue: QueueID?, sign: (_ message: [UInt8]) throws -> [UInt8]
    ) async throws -> MailboxResponse {
        let nonce = Self.makeNonce()
        let body = MailboxRequest.Body(operation: operation, queueID: queue, timestamp: clock.now(), nonce: nonce).encode()
        let signature = try sign(MailboxRequest.signingInput(body: body, mailboxPeerID: mailboxPeerID))
        // Version 1 unless the kind needs more, so envelope requests work with older mailboxes.
        let request = MailboxRequest(version: operation.kind.minimumVersion, bodyBytes: body, signature: signature).encode()
        let maxLength = operation.kind == .depositBlocks ? MailboxProtocol.maxBlocksRequestLength : MailboxProtocol.maxRequestLength
        guard request.count <= maxLength else {
            throw MailboxError(.messageTooLarge, "request of \(request.count) bytes exceeds \(maxLength)")
        }
        do {
            try await stream.writeLengthPrefixed(request)
        } catch {
            throw MailboxError(.connectionFailed, "cannot send to the mailbox", underlying: error)
        }
        let response = try await receive()
        if let error = response.error { throw error }
        return response
    }

    /// A fresh random nonce, drawn 8 bytes per system-generator call (a byte per call would
    /// cost 16 `getrandom` system calls per request).
    static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return [UInt8](unsafeUninitializedCapacity: MailboxProtocol.nonceLength) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for offset in stride(from: 0, to: MailboxProtocol.nonceLength, by: 8) {
                withUnsafeBytes(of: generator.next() as UInt64) { word in
                    let length = min(8, MailboxProtocol.nonceLength - offset)
                    raw.baseAddress!.advanced(by: offset).copyMemory(from: word.baseAddress!, byteCount: length)
                }
            }
            count = MailboxProtocol.nonceLength
        }
    }

    /// Sends raw bytes as one framed message and returns the parsed answer (for tests of bad
    /// input; errors are returned in the answer, not thrown).
    public func sendRaw(_ message: [UInt8]) async throws -> MailboxResponse {
        do {
            try await stream.writeLengthPrefixed(message)
        } catch {
            throw MailboxError(.connectionFailed, "cannot send to the mailbox", underlying: error)
        }
        return try await receive()
    }

    /// Reads one answer.
    func receive() async throws -> MailboxResponse {
        let frame: ByteBuffer
        do {
            frame = try await stream.readLengthPrefixed(maximumLength: MailboxProtocol.maxResponseLength)
        } catch let error as LibP2PError where error.code == .frameTooLarge {
            throw MailboxError(.messageTooLarge, "mailbox answer too large", underlying: error)
        } catch {
            throw MailboxError(.connectionFailed, "mailbox stream ended", underlying: error)
        }
        return try MailboxResponse(parsing: Array(frame.readableBytesView))
    }

    /// Closes the stream.
    public func close() async {
        try? await stream.closeWrite()
        await stream.close()
    }

    /// Whether the mailbox closed its side (reads EOF).
    public func isClosedByMailbox() async -> Bool {
        guard let chunk = try? await stream.read() else { return true }
        return chunk.readableBytes == 0
    }
}
