import Foundation
import GRDB
import LibP2P

extension ChatDatabase {
    /// Stores our display name and listen port for `peerID`, keeping the original creation time.
    ///
    /// - Throws: `.identityMismatch` when the database already belongs to another peer ID (the
    ///   identity file was replaced); `.invalidArgument` for an empty name.
    @discardableResult
    public func setLocalProfile(name: String, peerID: PeerID, listenPort: UInt16?, now: Date = Date()) async throws -> LocalProfile {
        let name = try Self.validatedName(name)
        return try await write { db in
            var profile = LocalProfile(displayName: name, peerID: peerID, listenPort: listenPort, createdAt: now, updatedAt: now)
            if let existing = try LocalProfile.fetchOne(db) {
                guard existing.peerID == peerID else {
                    throw ChatStoreError(.identityMismatch, "this home's database belongs to \(existing.peerID), not \(peerID); restore the matching identity file")
                }
                profile.createdAt = existing.createdAt
            }
            try profile.save(db)
            return profile
        }
    }

    /// Remembers the port the node listens on, so the next start reuses it.
    ///
    /// - Throws: `.notFound` when no profile was stored yet.
    public func setListenPort(_ port: UInt16?, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE local_identity SET listen_port = ?, updated_at = ? WHERE id = 1",
                           arguments: [port.map { Int64($0) }, now.millisecondsSince1970])
            guard db.changesCount == 1 else {
                throw ChatStoreError(.notFound, "no local profile yet; set a name first")
            }
        }
    }

    /// Our stored profile, or `nil` before the first `setLocalProfile`.
    public func localProfile() async throws -> LocalProfile? {
        try await read { db in try LocalProfile.fetchOne(db) }
    }

    /// The longest display name accepted, in characters.
    public static let maximumNameLength = 64

    /// Trims and checks a display name: 1–64 characters, no control characters.
    static func validatedName(_ name: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximumNameLength else {
            throw ChatStoreError(.invalidArgument, "a name must be 1–\(maximumNameLength) characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ChatStoreError(.invalidArgument, "a name must not contain control characters")
        }
        return trimmed
    }
}
