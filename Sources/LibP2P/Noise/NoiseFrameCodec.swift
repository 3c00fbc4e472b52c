import NIOCore

/// libp2p's Noise framing: every handshake and transport message travels as
/// `u16 big-endian length ‖ message` (libp2p noise spec, "Wire format"; Noise spec §3 limits a
/// message to 65535 bytes).
///
/// Stateless: the functions work on caller-owned buffers so that ``NoiseSecuredStream`` and the
/// libp2p handshake can share them without copying.
public enum NoiseFrameCodec {
    /// The size of the big-endian length prefix.
    public static let lengthFieldLength = 2
    /// The largest frame body, the Noise message limit (Noise spec §3).
    public static let maxFrameLength = NoiseXXHandshake.maxMessageLength
    /// The largest plaintext per transport frame: 65535 minus the 16-byte tag (go-libp2p
    /// `noise/rw.go` `MaxPlaintextLength`). Larger writes are split.
    public static let maxPlaintextLength = maxFrameLength - NoiseCipherState.tagLength

    /// Appends one frame carrying `message` to `buffer`.
    ///
    /// Throws ``LibP2PError/Code/frameTooLarge`` if `message` exceeds ``maxFrameLength``.
    public static func writeFrame(_ message: [UInt8], into buffer: inout ByteBuffer) throws {
        try checkLength(message.count)
        buffer.writeInteger(UInt16(message.count))
        buffer.writeBytes(message)
    }

    /// Appends one frame carrying the readable bytes of `message` to `buffer`.
    public static func writeFrame(_ message: ByteBuffer, into buffer: inout ByteBuffer) throws {
        try checkLength(message.readableBytes)
        buffer.writeInteger(UInt16(message.readableBytes))
        buffer.writeImmutableBuffer(message)
    }

    /// Removes the next complete frame from the front of `buffer` and returns its body (a slice,
    /// not a copy), or returns `nil` and leaves `buffer` untouched if the frame is incomplete.
    ///
    /// A u16 length cannot exceed ``maxFrameLength``, so every length on the wire is in bounds.
    public static func readFrame(from buffer: inout ByteBuffer) -> ByteBuffer? {
        guard hasCompleteFrame(buffer), let length = buffer.readInteger(as: UInt16.self) else { return nil }
        return buffer.readSlice(length: Int(length))
    }

    /// Moves bytes from the front of `source` to the end of `partial` until `partial` holds one
    /// complete frame or `source` is empty; moves no more than that frame needs.
    public static func completeFrame(_ partial: inout ByteBuffer, from source: inout ByteBuffer) {
        if partial.readableBytes < lengthFieldLength {
            let count = min(lengthFieldLength - partial.readableBytes, source.readableBytes)
            var head = source.readSlice(length: count)!
            partial.writeBuffer(&head)
        }
        guard let length = partial.getInteger(at: partial.readerIndex, as: UInt16.self) else { return }
        let missing = lengthFieldLength + Int(length) - partial.readableBytes
        guard missing > 0 else { return }
        var body = source.readSlice(length: min(missing, source.readableBytes))!
        partial.writeBuffer(&body)
    }

    /// Whether `buffer` starts with a complete frame.
    public static func hasCompleteFrame(_ buffer: ByteBuffer) -> Bool {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return false }
        return buffer.readableBytes >= lengthFieldLength + Int(length)
    }

    /// Encrypts the readable bytes of `plaintext` as transport frames of at most
    /// ``maxPlaintextLength`` plaintext bytes each and appends them to `output`
    /// (libp2p noise spec, "Wire format"; Noise spec §5.1 EncryptWithAD with empty `ad`).
    ///
    /// Reserves the whole output once and encrypts straight into it: no per-frame buffers.
    public static func sealFrames(
        _ plaintext: ByteBuffer,
        with cipher: inout NoiseCipherState,
        into output: inout ByteBuffer
    ) throws {
        var remaining = plaintext
        let frameCount = (remaining.readableBytes + maxPlaintextLength - 1) / maxPlaintextLength
        output.reserveCapacity(
            minimumWritableBytes: remaining.readableBytes + frameCount * (lengthFieldLength + NoiseCipherState.tagLength)
        )
        while remaining.readableBytes > 0 {
            let chunk = remaining.readSlice(length: min(remaining.readableBytes, maxPlaintextLength))!
            let lengthIndex = output.writerIndex
            output.writeInteger(UInt16(0))
            try cipher.encrypt(chunk, appendingTo: &output)
            output.setInteger(UInt16(output.writerIndex - lengthIndex - lengthFieldLength), at: lengthIndex)
        }
    }

    /// Decrypts every complete transport frame at the front of `buffer`, appending the plaintext
    /// to `output`, and returns how many frames it opened; an incomplete frame stays in `buffer`.
    ///
    /// Throws ``LibP2PError/Code/decryptionFailed`` for a frame that fails authentication.
    @discardableResult
    public static func openFrames(
        from buffer: inout ByteBuffer,
        with cipher: inout NoiseCipherState,
        into output: inout ByteBuffer
    ) throws -> Int {
        var count = 0
        while let frame = readFrame(from: &buffer) {
            try cipher.decrypt(frame, appendingTo: &output)
            count += 1
        }
        return count
    }

    private static func checkLength(_ length: Int) throws {
        guard length <= maxFrameLength else {
            throw LibP2PError(.frameTooLarge, "Noise frame of \(length) bytes exceeds \(maxFrameLength)")
        }
    }
}
