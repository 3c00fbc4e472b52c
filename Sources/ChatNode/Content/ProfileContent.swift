import Foundation
import Multiformats

/// The body of a control message (content kind `control`) that tells a contact who we are and
/// where to reach us: sent first on every new session (the "hello" that names us to a peer
/// that only knows our PeerID) and again whenever our listen addresses change.
///
/// JSON: `{"v":1,"type":"profile","name":"alice","addresses":["/ip4/…/tcp/…",…]}`.
public struct ProfileContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 1
    /// The most addresses accepted.
    public static let maximumAddresses = 32

    /// Always `version`.
    public var v: Int
    /// Always `profile` today; other control types are ignored by this version.
    public var type: String
    /// Our display name, if we announce it.
    public var name: String?
    /// Where we listen (without `/p2p/`).
    public var addresses: [String]
    /// In the first message of a session started from an invite: the ids (hex) of the mailbox
    /// queues that invite carried, so the invite's owner knows those queues are ours.
    public var inviteQueues: [String]?

    /// A profile announcement.
    public init(name: String?, addresses: [Multiaddr], inviteQueues: [[UInt8]] = []) {
        self.v = Self.version
        self.type = "profile"
        self.name = name
        self.addresses = addresses.map { $0.removingPeerID().description }
        self.inviteQueues = inviteQueues.isEmpty ? nil : inviteQueues.map { $0.map { String(format: "%02x", $0) }.joined() }
    }

    /// Parses a control body; anything but a version-1 profile is `.malformedInput`.
    public init(parsing body: String) throws {
        guard let decoded = try? JSONDecoder().decode(ProfileContent.self, from: Data(body.utf8)),
              decoded.v == Self.version, decoded.type == "profile", decoded.addresses.count <= Self.maximumAddresses,
              (decoded.inviteQueues?.count ?? 0) <= MailboxesContent.maximumQueues
        else {
            throw ChatNodeError(.malformedInput, "control message is not a profile")
        }
        self = decoded
    }

    /// The addresses that parse.
    public var multiaddrs: [Multiaddr] { addresses.compactMap { try? Multiaddr($0) } }

    /// The JSON body.
    public var body: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }
}
