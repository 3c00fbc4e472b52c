import Foundation
import LibP2P
import Logging
@testable import Mailbox
import Multiformats
import Synchronization
import Testing

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let value: Mutex<UInt64>

    init(_ start: UInt64 = 1_700_000_000_000) {
        value = Mutex(start)
    }

    func advance(seconds: UInt64) {
        value.withLock { $0 += seconds * 1000 }
    }

    var mailboxClock: MailboxClock {
        MailboxClock { self.value.withLock { $0 } }
    }
}

/// A running libp2p host and the task running it.
final class RunningHost: Sendable {
    let host: LibP2P.Host
    private let task: Task<Void, Never>

    init(listen: Bool) async throws {
        var logger = Logger(label: "test.mailbox.host")
        logger.logLevel = .error
        let host = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: logger)
        self.host = host
        task = Task { await host.run() }
        if listen { _ = try await host.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")) }
    }

    var address: Multiaddr { host.listenAddresses[0] }

    func stop() async {
        await host.shutdown()
        await task.value
    }
}

/// A mailbox server on a real host in a temporary home, with its `run()` task.
final class RunningMailbox: Sendable {
    let home: URL
    let server: MailboxServer
    let node: RunningHost
    private let runTask: Task<Void, Never>

    init(home: URL? = nil, configuration: MailboxConfiguration = MailboxConfiguration(), clock: MailboxClock = .system) async throws {
        let home = home ?? FileManager.default.temporaryDirectory.appendingPathComponent("mailbox-test-\(UInt64.random(in: 0 ... .max))")
        self.home = home
        var logger = Logger(label: "test.mailbox")
        logger.logLevel = .critical
        let server = try MailboxServer(home: home, configuration: configuration, clock: clock, logger: logger)
        self.server = server
        node = try await RunningHost(listen: true)
        server.register(on: node.host)
        runTask = Task { await server.run() }
    }

    var address: Multiaddr { node.address }

    /// Stops the host and `run()`, and closes the database (the WAL is checkpointed).
    func stop() async throws {
        await node.stop()
        runTask.cancel()
        await runTask.value
        try server.close()
    }

    /// The database file's bytes (read after `stop()`), with any WAL file.
    func databaseBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for suffix in ["", "-wal"] {
            let url = URL(fileURLWithPath: server.store.fileURL.path + suffix)
            if let data = try? Data(contentsOf: url) { bytes += data }
        }
        return bytes
    }

    func removeHome() {
        try? FileManager.default.removeItem(at: home)
    }
}

/// A client with its own throwaway host.
final class RunningClient: Sendable {
    let node: RunningHost
    let client: MailboxClient

    init(clock: MailboxClock = .system) async throws {
        node = try await RunningHost(listen: false)
        client = MailboxClient(host: node.host, clock: clock)
    }

    func stop() async {
        await node.stop()
    }
}

/// Random bytes.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in this array.
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first && self[index..<index + needle.count].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }

    func firstIndex(ofSubsequence needle: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for index in 0...(count - needle.count) where self[index] == needle[0] && self[index..<index + needle.count].elementsEqual(needle) {
            return index
        }
        return nil
    }
}

/// Expects `body` to throw a `MailboxError` with `code`.
func expectMailboxError<T>(_ code: MailboxError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as MailboxError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
