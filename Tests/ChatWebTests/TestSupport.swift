import ChatNode
import ChatStore
import Foundation
import Hummingbird
import HummingbirdTesting
import LibP2P
import Logging
import Multiformats
import Testing

@testable import ChatWeb

/// A temporary home, removed at the end.
func withTemporaryHome<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = URL(fileURLWithPath: "/tmp/cw-\(UUID().uuidString.prefix(8))", isDirectory: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// An initialized account and a node for it on a free loopback port, without a control socket.
func makeNode(home: URL, name: String) async throws -> ChatNode {
    let account = try ChatAccount(home: home, identity: .generate())
    try await account.initialize(name: name, listenPort: 0)
    var configuration = ChatNodeConfiguration(listenAddresses: [try Multiaddr("/ip4/127.0.0.1/tcp/0")])
    configuration.servesControlSocket = false
    configuration.announcesAddressChanges = false
    return ChatNode(account: account, configuration: configuration, logger: quietLogger("node"))
}

/// The web server of `node` on any free port, with a fresh token.
func makeServer(node: ChatNode, home: URL, monitorInterval: Duration = .milliseconds(200)) throws -> ChatWebServer {
    try ChatWebServer(
        node: node, home: home, token: AccessToken.random(), port: 0, monitorInterval: monitorInterval,
        logger: quietLogger("web"), onListening: { _ in })
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

/// Fails the test with `what` when `body` takes longer than `timeout` (a deadline for awaited
/// events, not a wait for them).
func withDeadline<T: Sendable>(_ what: String, _ timeout: Duration = .seconds(30), _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestFailure("timed out: \(what)")
        }
        return value
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Headers that authenticate with `server`'s token.
func authorized(_ server: ChatWebServer, _ extra: HTTPFields = [:]) -> HTTPFields {
    var headers = extra
    headers[.authorization] = "Bearer \(server.token.value)"
    return headers
}

/// A JSON request body.
func json(_ value: some Encodable) throws -> ByteBuffer {
    ByteBuffer(bytes: try JSONEncoder().encode(value))
}

/// Decodes a response body as JSON.
func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(type, from: Data(response.body.readableBytesView))
}

/// The API's JSON as loose dictionaries, for shape checks.
func object(_ response: TestResponse) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
    guard let object = value as? [String: Any] else { throw TestFailure("not a JSON object: \(value)") }
    return object
}
