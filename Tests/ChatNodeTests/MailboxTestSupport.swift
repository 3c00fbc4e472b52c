import ChatStore
import Foundation
import LibP2P
import Logging
import Mailbox
import Multiformats
import NIOCore
import Synchronization
import Testing

@testable import ChatNode

/// A mailbox server on loopback in a temporary home, with the tasks running it.
final class TestMailbox: Sendable {
    let home: URL
    let server: MailboxServer
    let host: LibP2P.Host
    let address: Multiaddr
    private let tasks: [Task<Void, Never>]

    init(clock: MailboxClock = .system, configuration: MailboxConfiguration = MailboxConfiguration()) async throws {
        home = URL(fileURLWithPath: "/tmp/mbx-\(UUID().uuidString.prefix(8))", isDirectory: true)
        server = try MailboxServer(home: home, configuration: configuration, clock: clock, logger: quietLogger("mailbox"))
        let host = LibP2P.Host(configuration: HostConfiguration(identity: .generate()), logger: quietLogger("mailbox.host"))
        self.host = host
        server.register(on: host)
        let server = server
        tasks = [Task { await host.run() }, Task { await server.run() }]
        address = try await host.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0"))[0]
    }

    func stop() async {
        await host.shutdown()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        try? server.close()
        try? FileManager.default.removeItem(at: home)
    }
}

/// Runs `body` with a running mailbox, stopped afterwards.
func withMailbox<T>(
    clock: MailboxClock = .system, configuration: MailboxConfiguration = MailboxConfiguration(), _ body: (TestMailbox) async throws -> T
) async throws -> T {
    let mailbox = try await TestMailbox(clock: clock, configuration: configuration)
    do {
        let result = try await body(mailbox)
        await mailbox.stop()
        return result
    } catch {
        await mailbox.stop()
        throw error
    }
}

/// Runs `body` with `account`'s mailbox directory on a throwaway host.
@discardableResult
func withDirectory<T: Sendable>(_ account: ChatAccount, _ body: @escaping @Sendable (MailboxDirectory) async throws -> T) async throws -> T {
    try await MailboxDirectory.withThrowawayClient(account: account, logger: quietLogger("directory")) { client in
        try await body(MailboxDirectory(account: account, client: client, logger: quietLogger("directory")))
    }
}

/// Envelopes waiting in all of `account`'s queues.
func waitingEnvelopes(_ account: ChatAccount) async throws -> Int {
    try await withDirectory(account) { try await $0.summaries().map { $0.waitingEnvelopes ?? -1_000_000 }.reduce(0, +) }
}

/// A node listening on a fresh loopback port that tells contacts its address.
func makeMailboxNode(_ account: ChatAccount, port: UInt16 = 0, retry: RetryPolicy = .slowDirect, hook: MessageCommandHook? = nil) -> ChatNode {
    var configuration = ChatNodeConfiguration(listenAddresses: [try! Multiaddr("/ip4/127.0.0.1/tcp/\(port)")])
    configuration.retryPolicy = retry
    configuration.servesControlSocket = false
    configuration.announcesAddressChanges = true
    configuration.messageHook = hook
    return ChatNode(account: account, configuration: configuration, logger: quietLogger("node"))
}

extension RetryPolicy {
    /// Direct retries far apart, so a test sees the mailbox path and not a direct resend.
    static let slowDirect = RetryPolicy(initialDelay: .seconds(120), maximumDelay: .seconds(300), multiplier: 2, jitter: 0)
}

/// Runs one node while `body` runs, then stops it (a user going offline).
func whileOnline<T: Sendable>(_ node: ChatNode, _ body: @Sendable () async throws -> T) async throws -> T {
    try await withRunning([node], body)
}

/// The state of a message.
func state(of id: MessageID, in account: ChatAccount) async throws -> MessageState? {
    try await account.database.message(id: id)?.state
}

/// An HTTP/1.1 endpoint on loopback that answers 200 and reports each request's head and body.
final class TinyHTTPEndpoint: Sendable {
    struct Request: Sendable {
        var head: String
        var body: [UInt8]
    }

    final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    let port: Int
    private let log = Log()
    private let listener: TCPTransport.Listener
    private let task: Task<Void, Never>

    init() async throws {
        listener = try await TCPTransport().listen(host: "127.0.0.1", port: 0)
        port = listener.localAddress.port!
        let connections = listener.connections
        let log = log
        task = Task {
            for await connection in connections {
                var data: [UInt8] = []
                var request: Request?
                while request == nil, let chunk = try? await connection.read() {
                    data += chunk.readableBytesView
                    guard let end = Self.headEnd(data) else { continue }
                    let head = String(decoding: data[..<end], as: UTF8.self)
                    let length = head.split(separator: "\r\n")
                        .first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    if data.count >= end + 4 + length {
                        request = Request(head: head, body: Array(data[(end + 4)..<(end + 4 + length)]))
                    }
                }
                try? await connection.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
                await connection.close()
                if let request { log.requests.withLock { $0.append(request) } }
            }
        }
    }

    var url: String { "http://127.0.0.1:\(port)/wake" }
    var requests: [Request] { log.requests.withLock { $0 } }

    func stop() async {
        try? await listener.channel.close()
        await task.value
    }

    private static func headEnd(_ data: [UInt8]) -> Int? {
        guard data.count >= 4 else { return nil }
        for index in 0...(data.count - 4) where data[index] == 13 && data[index + 1] == 10 && data[index + 2] == 13 && data[index + 3] == 10 {
            return index
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in this array.
    func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for index in 0...(count - needle.count) where self[index] == needle[0] && self[index..<index + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
