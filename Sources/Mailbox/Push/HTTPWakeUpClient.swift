import LibP2P
import NIOCore

/// A minimal HTTP/1.1 client for one thing: POST a fixed, content-free wake-up to a push
/// endpoint and read the status code (RFC 9112). One connection per POST
/// (`Connection: close`), no redirects, no TLS.
struct HTTPWakeUpClient: Sendable {
    /// The body of every wake-up: fixed, the same for every queue and deposit.
    static let body = Array(#"{"type":"wake"}"#.utf8)
    /// The longest status line and headers read from the endpoint.
    static let maxResponseHeadLength = 8 * 1024

    /// What happened to one POST.
    enum Outcome: Sendable, Equatable {
        /// 2xx.
        case delivered
        /// 404 or 410: the endpoint is gone (UnifiedPush); stop using it.
        case gone
        /// Another 4xx: do not retry.
        case rejected(Int)
        /// 5xx, 429, or a network failure: retry later.
        case retry(String)
    }

    let transport: TCPTransport

    init(transport: TCPTransport = TCPTransport()) {
        self.transport = transport
    }

    /// POSTs the wake-up to `endpoint`, giving up (and closing) after `timeout`.
    func post(to endpoint: PushEndpoint, timeout: Duration) async -> Outcome {
        let stream: TCPByteStream
        do {
            stream = try await transport.dial(host: endpoint.host, port: endpoint.port)
        } catch {
            return .retry("connect failed: \(error)")
        }
        let outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await self.exchange(on: stream, endpoint: endpoint) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            await stream.close()
            group.cancelAll()
            return first ?? .retry("no answer within \(timeout)")
        }
        return outcome
    }

    private func exchange(on stream: TCPByteStream, endpoint: PushEndpoint) async -> Outcome {
        let hostHeader = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
        let head = "POST \(endpoint.path) HTTP/1.1\r\n"
            + "Host: \(hostHeader)\(endpoint.port == 80 ? "" : ":\(endpoint.port)")\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: \(Self.body.count)\r\n"
            + "TTL: 86400\r\nUrgency: high\r\nConnection: close\r\n\r\n"
        var request = ByteBuffer(string: head)
        request.writeBytes(Self.body)
        do {
            try await stream.write(request)
            var received: [UInt8] = []
            while !received.contains(UInt8(ascii: "\n")) {
                guard let chunk = try await stream.read() else { break }
                received += chunk.readableBytesView
                guard received.count <= Self.maxResponseHeadLength else { return .retry("response head too long") }
            }
            return Self.outcome(statusLine: received)
        } catch {
            return .retry("HTTP exchange failed: \(error)")
        }
    }

    /// The outcome for a response that starts with `HTTP/1.x NNN`.
    static func outcome(statusLine: [UInt8]) -> Outcome {
        let line = String(decoding: statusLine.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            return .retry("not an HTTP response")
        }
        switch status {
        case 200..<300: return .delivered
        case 404, 410: return .gone
        case 429, 500..<600: return .retry("status \(status)")
        default: return .rejected(status)
        }
    }
}
