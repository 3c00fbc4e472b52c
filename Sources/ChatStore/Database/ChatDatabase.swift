import Foundation
import GRDB

/// The chat node's persistent state: `<home>/chat.sqlite`, a SQLite database in WAL mode.
///
/// Several processes may open the same file at once (the CLI while `p2pchat up` runs): writes
/// are serialized by SQLite's write lock with a busy timeout, ratchet state is protected by
/// optimistic versioning (`saveSession(contactID:state:expectedVersion:now:)`), and every public
/// write is one transaction, so a crash leaves either all of it or none of it.
///
/// The libp2p private key is *not* stored here: it stays in the home's identity file (mode 0600,
/// written by the CLI); the database records the peer ID it belongs to and refuses to be reused
/// by another identity. The X3DH private keys (`PreKeyRecord`) and ratchet states *are* stored
/// here, which is why the database and its `-wal`/`-shm` files are mode 0600 and the home 0700.
public final class ChatDatabase: Sendable {
    /// The database file's name inside the home.
    public static let fileName = "chat.sqlite"
    /// How long a write waits for another process's write lock before failing.
    public static let defaultBusyTimeout: Duration = .seconds(10)
    /// The file mode of the database and its side files: owner read/write only.
    static let fileMode: mode_t = 0o600

    /// The path of the database file.
    public let path: String
    /// The GRDB pool: one writer, concurrent readers (WAL).
    let pool: DatabasePool

    /// Opens (creating and migrating if needed) `<home>/chat.sqlite`. Creates the home with
    /// mode 0700 when it does not exist.
    public convenience init(home: URL, busyTimeout: Duration = ChatDatabase.defaultBusyTimeout) throws {
        do {
            try FileManager.default.createDirectory(
                at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ChatStoreError(.database, "cannot create home directory \(home.path)", underlying: error)
        }
        try self.init(path: home.appendingPathComponent(Self.fileName).path, busyTimeout: busyTimeout)
    }

    /// Opens (creating and migrating if needed) the database at `path`.
    public init(path: String, busyTimeout: Duration = ChatDatabase.defaultBusyTimeout) throws {
        self.path = path
        try Self.createPrivateFile(at: path)
        var configuration = Configuration()
        configuration.label = "ChatStore"
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Double(busyTimeout.wholeMilliseconds) / 1000)
        configuration.prepareDatabase { db in
            // WAL + FULL: a commit that returned survives power loss, not only a crash; the
            // protocol acknowledges messages right after storing them.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try ChatMigrations.migrator.migrate(pool)
        } catch {
            throw ChatStoreError(.database, "cannot open chat database \(path)", underlying: error)
        }
        // SQLite gives -wal and -shm the main file's mode; tighten them anyway in case they were
        // created by an older version or another tool.
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            _ = chmod(path + suffix, Self.fileMode)
        }
    }

    /// The schema migrations applied to this database, oldest first.
    public func appliedMigrations() async throws -> [String] {
        try await read { db in try ChatMigrations.migrator.appliedMigrations(db) }
    }

    /// Creates the file with mode 0600 before SQLite does (SQLite would use 0644 & ~umask), or
    /// tightens an existing file's mode.
    private static func createPrivateFile(at path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else {
            throw ChatStoreError(.database, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fchmod(descriptor, fileMode) == 0 else {
            throw ChatStoreError(.database, "cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: Transactions

    /// Runs `updates` in one IMMEDIATE transaction; a thrown error rolls everything back.
    /// Database failures become `ChatStoreError(.database)`; our own errors pass through.
    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as ChatStoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ChatStoreError(.database, "write failed", underlying: error)
        }
    }

    /// Runs `value` on a read-only snapshot.
    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as ChatStoreError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw ChatStoreError(.database, "read failed", underlying: error)
        }
    }
}
