import Foundation
import LibP2P
@testable import Mailbox
import Multiformats
import NIOCore
import Synchronization
import Testing

/// Push wake-ups: a tiny HTTP server on loopback receives content-free POSTs.
@Suite struct MailboxPushTests {
    /// One received HTTP request.
    struct Received: Sendable {
        var head: String
        var body: [UInt8]
    }

    /// An HTTP/1.1 endpoint answering with `statuses` in turn (then 200), reporting requests.
    final class TinyHTTPServer: Sendable {
        let port: Int
        let requests: AsyncStream<Received>
        private let listener: TCPTransport.Listener
        private let task: Task<Void, Never>

        init(statuses: [Int]) async throws {
            listener = try await TCPTransport().listen(host: "127.0.0.1", port: 0)
            port = listener.localAddress.port!
            let (requests, continuation) = AsyncStream<Received>.makeStream()
            self.requests = requests
            let remaining = Mutex(statuses)
            let connections = listener.connections
            task = Task {
                for await connection in connections {
                    var data: [UInt8] = []
                    var received: Received?
                    while received == nil, let chunk = try? await connection.read() {
                        data += chunk.readableBytesView
                        if let end = data.firstIndex(ofSubsequence: Array("\r\n\r\n".utf8)) {
                            let head = String(decoding: data[..<end], as: UTF8.self)
                            let length = head.split(separator: "\r\n")
                                .first { $0.lowercased().hasPrefix("content-length:") }
                                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                            if data.count >= end + 4 + length {
                                received = Received(head: head, body: Array(data[(end + 4)..<(end + 4 + length)]))
                            }
                        }
                    }
                    let status = remaining.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
                    try? await connection.write(ByteBuffer(string: "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
                    await connection.close()
                    if let received { continuation.yield(received) }
                }
                continuation.finish()
            }
        }

        func stop() async {
            try? await listener.channel.close()
            await task.value
        }
    }

    @Test func depositWakesThePushEndpointWithRetry() async throws {
        let endpoint = try await TinyHTTPServer(statuses: [503])
        var configuration = MailboxConfiguration()
        configuration.allowsPrivatePushEndpoints = true
        configuration.pushRetryBaseDelay = .milliseconds(20)
        let mailbox = try await RunningMailbox(configuration: configuration)
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)
        try await client.client.setPushEndpoint("http://127.0.0.1:\(endpoint.port)/up/abc?x=1", for: credentials)
        #expect(try await client.client.status(of: credentials).hasPushEndpoint)

        let envelope = randomBytes(300)
        _ = try await client.client.deposit(envelope, to: credentials.address)
        var iterator = endpoint.requests.makeAsyncIterator()
        let first = try #require(await iterator.next())  // answered 503
        let second = try #require(await iterator.next())  // the retry, answered 200
        for request in [first, second] {
            #expect(request.head.hasPrefix("POST /up/abc?x=1 HTTP/1.1\r\n"))
            #expect(request.body == HTTPWakeUpClient.body)
            // Content-free: nothing of the envelope, the queue or its CID.
            let text = request.head.utf8 + request.body
            let bytes = [UInt8](text)
            #expect(!bytes.contains(subsequence: Array(envelope.prefix(16))))
            #expect(!bytes.contains(subsequence: credentials.queueID.bytes))
            #expect(!request.head.contains(credentials.queueID.description))
        }
        await client.stop()
        try await mailbox.stop()
        await endpoint.stop()
    }

    @Test func pushEndpointsAreValidated() async throws {
        let mailbox = try await RunningMailbox()
        defer { mailbox.removeHome() }
        let client = try await RunningClient()
        let credentials = try await client.client.createQueue(at: mailbox.address)
        for url in ["https://push.example/x", "http://127.0.0.1:8080/x", "http://localhost/x", "http://10.1.2.3/", "ftp://a/b", "http://a@b/"] {
            await expectMailboxError(.invalidPushEndpoint) { try await client.client.setPushEndpoint(url, for: credentials) }
        }
        try await client.client.setPushEndpoint("http://push.example:8080/up?token=1", for: credentials)
        #expect(try await client.client.status(of: credentials).hasPushEndpoint)
        try await client.client.setPushEndpoint(nil, for: credentials)
        #expect(try await client.client.status(of: credentials).hasPushEndpoint == false)
        await client.stop()
        try await mailbox.stop()
    }

    @Test func statusLinesMapToOutcomes() {
        #expect(HTTPWakeUpClient.outcome(statusLine: Array("HTTP/1.1 201 Created\r\n".utf8)) == .delivered)
        #expect(HTTPWakeUpClient.outcome(statusLine: Array("HTTP/1.1 410 Gone\r\n".utf8)) == .gone)
        #expect(HTTPWakeUpClient.outcome(statusLine: Array("HTTP/1.1 400 Bad\r\n".utf8)) == .rejected(400))
        #expect(HTTPWakeUpClient.outcome(statusLine: Array("HTTP/1.1 429 Slow\r\n".utf8)) == .retry("status 429"))
        #expect(HTTPWakeUpClient.outcome(statusLine: Array("garbage".utf8)) == .retry("not an HTTP response"))
    }
}
