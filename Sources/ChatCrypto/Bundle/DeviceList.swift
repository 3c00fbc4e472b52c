import LibP2P

/// The devices of one user, signed by the user's identity key (ARCHITECTURE.md "Identity and
/// keys": one device today, several later with Sesame).
///
/// Signed as `Sig("devices/v1"‖count‖(id‖peerID)*)`.
public struct DeviceList: Hashable, Sendable {
    /// Length of a device identifier.
    public static let deviceIDLength = 16
    /// Most devices accepted in a list.
    public static let maximumDevices = 16
    static let maximumPeerIDLength = 128

    /// One device.
    public struct Device: Hashable, Sendable {
        /// Random 16-byte device identifier.
        public let id: [UInt8]
        /// The device's libp2p PeerID (today the user's own).
        public let peerID: PeerID

        /// Creates a device entry; `id` must be 16 bytes.
        public init(id: [UInt8], peerID: PeerID) throws {
            guard id.count == DeviceList.deviceIDLength else {
                throw ChatCryptoError(.malformedInput, "device id must be \(DeviceList.deviceIDLength) bytes, got \(id.count)")
            }
            self.id = id
            self.peerID = peerID
        }
    }

    /// The devices, in order.
    public let devices: [Device]
    /// Ed25519 signature by the identity key over `signedMessage`.
    public let signature: [UInt8]

    /// Signs a device list with `identity`.
    public static func make(devices: [Device], identity: IdentityKeyPair) throws -> DeviceList {
        guard !devices.isEmpty, devices.count <= maximumDevices else {
            throw ChatCryptoError(.lengthExceeded, "device list needs 1...\(maximumDevices) devices, got \(devices.count)")
        }
        let signature = try signWithIdentity(identity, signedMessage(devices))
        return DeviceList(devices: devices, signature: signature)
    }

    init(devices: [Device], signature: [UInt8]) {
        self.devices = devices
        self.signature = signature
    }

    static func signedMessage(_ devices: [Device]) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(raw: Labels.deviceList)
        encodeDevices(devices, into: &writer)
        return writer.bytes
    }

    private static func encodeDevices(_ devices: [Device], into writer: inout ByteWriter) {
        writer.write(UInt8(devices.count))
        for device in devices {
            writer.write(raw: device.id)
            writer.write(short: device.peerID.bytes)
        }
    }

    func encode(into writer: inout ByteWriter) {
        Self.encodeDevices(devices, into: &writer)
        writer.write(raw: signature)
    }

    init(parsing reader: inout ByteReader) throws {
        let count = Int(try reader.readUInt8())
        guard count >= 1, count <= Self.maximumDevices else {
            throw ChatCryptoError(.lengthExceeded, "device list of \(count) devices; allowed 1...\(Self.maximumDevices)")
        }
        var devices: [Device] = []
        for _ in 0..<count {
            let id = try reader.readBytes(count: Self.deviceIDLength)
            let peerIDBytes = try reader.readShort(maximum: Self.maximumPeerIDLength, "device peer id")
            let peerID: PeerID
            do { peerID = try PeerID(bytes: peerIDBytes) } catch {
                throw ChatCryptoError(.malformedInput, "device peer id does not parse", underlying: error)
            }
            devices.append(try Device(id: id, peerID: peerID))
        }
        self.devices = devices
        self.signature = try reader.readBytes(count: signatureLength)
    }

    func verify(with identityKey: PublicKey) throws {
        guard identityKey.verify(signature: signature, for: Self.signedMessage(devices)) else {
            throw ChatCryptoError(.invalidSignature, "device list signature does not verify")
        }
    }
}

/// Length of an Ed25519 signature.
let signatureLength = 64

/// Signs with the libp2p identity, mapping its error into ours.
func signWithIdentity(_ identity: IdentityKeyPair, _ message: [UInt8]) throws -> [UInt8] {
    do {
        return try identity.sign(message)
    } catch {
        throw ChatCryptoError(.cryptoFailure, "Ed25519 signing failed", underlying: error)
    }
}
