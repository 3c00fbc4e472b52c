import Foundation
import LibP2P
@testable import ChatStore

/// A fresh home directory under the system temporary directory, removed afterwards.
func withTemporaryHome<T>(_ body: (URL) async throws -> T) async throws -> T {
    let home = FileManager.default.temporaryDirectory
        .appendingPathComponent("chatstore-tests-\(UUID().uuidString)", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: home) }
    return try await body(home)
}

/// A fresh database in a temporary home.
func withDatabase<T>(_ body: (ChatDatabase, URL) async throws -> T) async throws -> T {
    try await withTemporaryHome { home in
        let database = try ChatDatabase(home: home)
        return try await body(database, home)
    }
}

/// A random peer ID.
func makePeerID() -> PeerID { IdentityKeyPair.generate().peerID }

/// A fixed clock origin: 2023-11-14T22:13:20Z, whole milliseconds.
let epoch = Date(timeIntervalSince1970: 1_700_000_000)

/// `epoch` plus `seconds`.
func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

/// Adds a contact named `name` with a random peer ID.
@discardableResult
func addContact(_ database: ChatDatabase, _ name: String = "alice") async throws -> Contact {
    try await database.addContact(name: name, peerID: makePeerID(), now: epoch)
}

/// The error code of `body`'s `ChatStoreError`, or `nil` when it did not throw one.
func storeErrorCode(_ body: () async throws -> Void) async -> ChatStoreError.Code? {
    do {
        try await body()
        return nil
    } catch let error as ChatStoreError {
        return error.code
    } catch {
        return nil
    }
}
