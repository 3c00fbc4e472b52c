import Dispatch
import Foundation
import LibP2P
import Logging

/// Runs a libp2p host for the duration of one command.
enum HostRunner {
    /// Creates a host for `identity`, runs it in the background while `body` runs, then shuts it down.
    static func withHost<T: Sendable>(
        identity: IdentityKeyPair, logger: Logger, _ body: @Sendable (LibP2P.Host) async throws -> T
    ) async throws -> T {
        try await LibP2P.Host(configuration: HostConfiguration(identity: identity), logger: logger).withRunning(body)
    }

    /// Returns when the process receives SIGINT or SIGTERM.
    static func waitForTerminationSignal() async {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { continuation.yield(signalNumber) }
            source.resume()
            sources.append(source)
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
