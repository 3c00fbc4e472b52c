/// The libp2p `PublicKey` / `PrivateKey` protobuf message (libp2p specs
/// `peer-ids/peer-ids.md` §Keys), which both have the same layout:
///
///     message PublicKey { required KeyType Type = 1; required bytes Data = 2; }
///
/// Encoding is deterministic as the spec requires (fields in tag order, minimal varints, both
/// fields always present). Decoding refuses missing or repeated fields, oversized `Data` and
/// unknown key types; unknown extra fields are skipped, as go-libp2p's generated code does.
struct KeyProtobuf: Hashable, Sendable {
    /// Largest accepted `Data` field. An RSA-8192 private key in PKCS#1 DER is about 4.7 KB,
    /// the largest thing libp2p accepts (go-libp2p `maxRsaKeyBits = 8192`).
    static let maximumDataSize = 8 * 1024
    /// Largest accepted encoded message: `Data`, plus the two tags, the type and a length varint.
    static let maximumEncodedSize = maximumDataSize + 16

    var keyType: KeyType
    var data: [UInt8]

    init(keyType: KeyType, data: [UInt8]) {
        self.keyType = keyType
        self.data = data
    }

    init(parsing bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumEncodedSize else {
            throw LibP2PError(.malformedInput, "key protobuf of \(bytes.count) bytes exceeds \(Self.maximumEncodedSize)")
        }
        var reader = ProtobufReader(bytes)
        var rawType: UInt64?
        var data: [UInt8]?
        while let field = try reader.next() {
            switch field.number {
            case 1:
                guard rawType == nil else { throw LibP2PError(.malformedInput, "key protobuf: repeated Type field") }
                rawType = try field.varint()
            case 2:
                guard data == nil else { throw LibP2PError(.malformedInput, "key protobuf: repeated Data field") }
                data = try field.bytes()
            default:
                continue
            }
        }
        guard let rawType, let data else {
            throw LibP2PError(.malformedInput, "key protobuf: missing required Type or Data field")
        }
        guard let keyType = KeyType(rawValue: rawType) else {
            throw LibP2PError(.unsupportedKey, "key protobuf: unknown key type \(rawType)")
        }
        guard data.count <= Self.maximumDataSize else {
            throw LibP2PError(.malformedInput, "key protobuf: Data of \(data.count) bytes exceeds \(Self.maximumDataSize)")
        }
        self.init(keyType: keyType, data: data)
    }

    func encode() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.writeVarint(field: 1, keyType.rawValue)
        writer.writeBytes(field: 2, data)
        return writer.bytes
    }
}
