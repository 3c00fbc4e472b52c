import ArgumentParser
import Foundation
import LibP2P
import NIOCore
import NIOPosix
import Synchronization

/// `p2pchat stream`: opens one stream for a protocol and pipes stdin/stdout through it,
/// like netcat over libp2p.
struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Open a stream for PROTOCOL to a peer; copy stdin to it (then half-close) and it to stdout until EOF."
    )

    @ParentCommand var root: P2PChat
    var global: GlobalOptions { root.global }

    @Argument(help: "The peer's multiaddr, ending in /p2p/<peer id>.")
    var address: String

    @Argument(help: "The protocol id, e.g. /x/echo.")
    var protocolID: String

    /// Bytes read from stdin per write.
    static let chunkSize = 256 * 1024

    func run() async throws {
        let identity = try global.openHome().loadOrCreateIdentity()
        let logger = try global.makeLogger()
        let target = try Dialing.parseTarget(address)
        let protocolID = protocolID
        try await HostRunner.withHost(identity: identity, logger: logger) { host in
            let connection = try await Dialing.dial(target, on: host)
            let negotiated: MultistreamSelect.Negotiated
            do {
                negotiated = try await connection.newStream(protocols: [protocolID])
            } catch {
                throw CLIError(error, context: "peer does not accept \(protocolID)")
            }
            let stream = negotiated.stream
            let finishedWriting = OneWayFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let chunk = try await BlockingIO.read(fileDescriptor: 0, upTo: Self.chunkSize) {
                        try await stream.write(chunk)
                    }
                    try await stream.closeWrite()
                    finishedWriting.set()
                }
                group.addTask {
                    do {
                        while let chunk = try await stream.read() {
                            try await BlockingIO.write(chunk, fileDescriptor: 1)
                        }
                    } catch let error as LibP2PError where error.code == .streamReset && finishedWriting.isSet {
                        // Some peers (Kubo's `p2p` tunnels) answer our half-close with a reset
                        // instead of a FIN: everything was sent, so this ends the stream.
                        logger.notice("peer reset the stream after we finished sending")
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}

/// Blocking reads and writes of standard descriptors, run on NIO's thread pool so they never
/// block the concurrency pool (works for pipes, terminals and regular files alike).
enum BlockingIO {
    static func read(fileDescriptor: Int32, upTo count: Int) async throws -> ByteBuffer? {
        try await NIOThreadPool.singleton.runIfActive {
            var buffer = ByteBuffer()
            buffer.reserveCapacity(count)
            let readCount = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                while true {
                    let result = Glibc.read(fileDescriptor, pointer.baseAddress, count)
                    if result >= 0 { return result }
                    if errno == EINTR { continue }
                    throw CLIError("read from descriptor \(fileDescriptor) failed: \(String(cString: strerror(errno)))")
                }
            }
            return readCount == 0 ? nil : buffer
        }
    }

    static func write(_ buffer: ByteBuffer, fileDescriptor: Int32) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try buffer.withUnsafeReadableBytes { pointer in
                var offset = 0
                while offset < pointer.count {
                    let result = Glibc.write(fileDescriptor, pointer.baseAddress! + offset, pointer.count - offset)
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw CLIError("write to descriptor \(fileDescriptor) failed: \(String(cString: strerror(errno)))")
                    }
                    offset += result
                }
            }
        }
    }
}

/// A thread-safe one-way flag.
final class OneWayFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}
