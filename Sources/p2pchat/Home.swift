import Foundation
import LibP2P

/// A user's home directory: where the identity (and later the database) lives.
struct Home {
    /// The file holding the libp2p `PrivateKey` protobuf of our identity, mode 0600.
    static let identityFileName = "identity.key"

    let directory: URL

    /// Opens (creating if needed, mode 0700) the home directory.
    init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CLIError("cannot create home directory \(directory.path): \(error.localizedDescription)")
        }
    }

    /// Our identity: loaded from the home, or generated and stored (mode 0600) on first use.
    func loadOrCreateIdentity() throws -> IdentityKeyPair {
        let url = directory.appendingPathComponent(Self.identityFileName)
        if let data = FileManager.default.contents(atPath: url.path) {
            do {
                return try IdentityKeyPair(protobufBytes: Array(data))
            } catch {
                throw CLIError("identity file \(url.path) is unreadable (\(error)); restore it from a backup or move it away to create a new identity")
            }
        }
        let identity = IdentityKeyPair.generate()
        let temporary = directory.appendingPathComponent(Self.identityFileName + ".tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(identity.protobufBytes), attributes: [.posixPermissions: 0o600]) else {
            throw CLIError("cannot write identity file in \(directory.path)")
        }
        // Atomic publish: a crash never leaves a half-written identity behind.
        guard rename(temporary.path, url.path) == 0 else {
            throw CLIError("cannot store identity file \(url.path): \(String(cString: strerror(errno)))")
        }
        return identity
    }
}

extension Home {
    /// Our identity, which `p2pchat init` created; a one-line error when it is missing.
    func loadIdentity() throws -> IdentityKeyPair {
        let url = directory.appendingPathComponent(Self.identityFileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CLIError("no identity in \(directory.path): run `p2pchat --home \(directory.path) init --name NAME` first")
        }
        return try loadOrCreateIdentity()
    }
}
