import Foundation
import LibP2P
import Logging
import NIOCore
import NIOPosix

/// The local control channel between commands and the node running for a home: a Unix domain
/// socket `<home>/node.sock`, one JSON request and one JSON response per line. Only the home's
/// owner can reach it (the home is mode 0700).
public enum ControlSocket {
    /// The socket's file name inside the home.
    public static let fileName = "node.sock"
    /// The longest request or response line accepted.
    public static let maxLineLength = 1 << 20
    /// How long a command waits for the node's answer.
    public static let requestTimeout: Duration = .seconds(10)

    /// The socket path for a home.
    public static func path(in home: URL) -> String {
        home.appendingPathComponent(fileName).path
    }

    /// A bound control socket; close `channel` to stop it.
    public struct Server: Sendable {
        /// The listening channel.
        public let channel: any Channel
        /// Accepted connections.
        let connections: AsyncStream<TCPByteStream>
    }

    /// Binds the control socket (replacing a stale socket file).
    public static func bind(in home: URL, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Server {
        let path = path(in: home)
        guard path.utf8.count < 100 else {
            throw ChatNodeError(.control, "home path too long for a control socket (\(path.utf8.count) bytes; the limit is 100): use a shorter --home")
        }
        do {
            let listener = try await TCPTransport(group: group).listen(unixDomainSocketPath: path)
            return Server(channel: listener.channel, connections: listener.connections)
        } catch {
            throw ChatNodeError(.control, "cannot bind control socket \(path)", underlying: error)
        }
    }

    /// Serves requests until the server channel closes.
    public static func serve(_ server: Server, logger: Logger, handler: @escaping @Sendable (ControlRequest) async -> ControlResponse) async {
        await withDiscardingTaskGroup { group in
            for await connection in server.connections {
                group.addTask {
                    let stream = BufferedByteStream(connection)
                    do {
                        while let line = try await readLine(from: stream) {
                            let response: ControlResponse
                            if let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line)) {
                                response = await handler(request)
                            } else {
                                response = ControlResponse(ok: false, error: "malformed request")
                            }
                            try await writeLine(response, to: stream)
                        }
                    } catch {
                        logger.debug("control connection ended", metadata: ["reason": "\(error)"])
                    }
                    await stream.close()
                }
            }
        }
    }

    /// Sends one request to the node running for `home`; `nil` if no node is running there.
    public static func send(_ request: ControlRequest, home: URL) async -> ControlResponse? {
        let path = path(in: home)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let connection = try? await TCPTransport().dial(unixDomainSocketPath: path) else { return nil }
        let stream = BufferedByteStream(connection)
        var response: ControlResponse?
        do {
            try await writeLine(request, to: stream)
            if let line = try await readLine(from: stream) {
                response = try JSONDecoder().decode(ControlResponse.self, from: Data(line))
            }
        } catch {
            response = nil
        }
        await stream.close()
        return response
    }

    static func writeLine(_ value: some Encodable, to stream: any ByteStream) async throws {
        var bytes = try JSONEncoder().encode(value)
        bytes.append(0x0a)
        try await stream.write(ByteBuffer(bytes: bytes))
    }

    static func readLine(from stream: BufferedByteStream) async throws -> [UInt8]? {
        var line: [UInt8] = []
        while true {
            let byte: ByteBuffer
            do {
                byte = try await stream.readExactly(1)
            } catch let error as LibP2PError where error.code == .unexpectedEOF {
                return line.isEmpty ? nil : line
            }
            let value = byte.getInteger(at: byte.readerIndex, as: UInt8.self)!
            if value == 0x0a { return line }
            line.append(value)
            guard line.count <= maxLineLength else {
                throw ChatNodeError(.control, "control line exceeds \(maxLineLength) bytes")
            }
        }
    }
}
