import LibP2P

/// Runs `body`; if it has not finished after `duration`, closes `stream` (so pending reads
/// end) and throws `.unreachable`.
func withDeadline<T: Sendable>(
    _ duration: Duration, closing stream: (any ByteStream)?, what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            return nil
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let value = next { return value }
            if let stream { await stream.close() }
            throw ChatNodeError(.unreachable, "\(what): no answer within \(duration)")
        }
        throw ChatNodeError(.unreachable, "\(what): no answer within \(duration)")
    }
}
