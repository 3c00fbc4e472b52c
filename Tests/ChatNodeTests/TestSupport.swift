import ChatStore
import Foundation
import LibP2P
import Logging
import Multiformats
import Synchronization
import Testing

@testable import ChatNode

/// A temporary home (short path: control sockets need < 100 bytes), removed at the end.
func withTemporaryHome<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = URL(fileURLWithPath: "/tmp/cn-\(UUID().uuidString.prefix(8))", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

/// A settable clock for TTL and backoff tests.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date()) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { self.now } }
}

/// Makes an initialized account in `home` named `name` listening on a free port.
func makeAccount(home: URL, name: String, clock: (@Sendable () -> Date)? = nil) async throws -> ChatAccount {
    let account = try ChatAccount(home: home, identity: .generate(), now: clock ?? { Date() })
    try await account.initialize(name: name, listenPort: 0)
    return account
}

/// Runs `nodes` while `body` runs, then cancels them.
func withRunning<T: Sendable>(_ nodes: [ChatNode], _ body: @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for node in nodes { group.addTask { try await node.run() } }
        do {
            for node in nodes { _ = try await node.listeningAddresses() }
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["P2PCHAT_TEST_LOG"] == "debug" ? .debug : .critical
    return logger
}

/// A node that does not serve the control socket (several per test process share nothing).
func makeNode(
    _ account: ChatAccount, retry: RetryPolicy = .default, listen: [Multiaddr]? = nil, announces: Bool = false,
    ackTimeout: Duration? = nil
) -> ChatNode {
    var configuration = ChatNodeConfiguration(listenAddresses: listen ?? [try! Multiaddr("/ip4/127.0.0.1/tcp/0")])
    configuration.retryPolicy = retry
    if let ackTimeout { configuration.ackTimeout = ackTimeout }
    configuration.servesControlSocket = false
    configuration.announcesAddressChanges = announces
    return ChatNode(account: account, configuration: configuration, logger: quietLogger("test"))
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Waits until `condition` holds, checking after every short interval; fails after `timeout`.
func until(_ what: String, timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(description: "timed out waiting for: \(what)")
}

/// Invites `invitee` from `inviter` (at its node's addresses) and adds it in `invitee`'s account.
@discardableResult
func connect(inviter: ChatNode, invitee: ChatAccount, as name: String) async throws -> Contact {
    let addresses = try await inviter.listeningAddresses()
    let invite = try await inviter.account.makeInvite(addresses: addresses)
    let parsed = try invitee.parseInvite(invite.text)
    return try await invitee.addContact(invite: parsed, name: name)
}

extension ChatAccount {
    func texts(with name: String) async throws -> [ChatMessage] {
        try await conversation(with: try contact(named: name), limit: 10_000)
    }
}
