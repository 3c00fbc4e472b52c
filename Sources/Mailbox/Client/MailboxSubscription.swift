import LibP2P
import NIOCore

/// A live feed of deposits to one queue: each element is the new envelope's entry (CID,
/// size, position). The feed ends when the mailbox or the network closes the stream; then
/// drain with list/fetch and subscribe again.
public struct MailboxSubscription: AsyncSequence, Sendable {
    public typealias Element = MailboxResponse.Entry

    let session: MailboxSession

    /// Reads notifications.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let session: MailboxSession

        /// The next deposit, or `nil` when the subscription has ended.
        public mutating func next() async throws -> MailboxResponse.Entry? {
            while true {
                let response: MailboxResponse
                do {
                    response = try await session.receive()
                } catch let error as MailboxError where error.code == .connectionFailed {
                    return nil
                }
                if let error = response.error { throw error }
                if let notification = response.notification { return notification }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(session: session)
    }

    /// Ends the subscription.
    public func close() async {
        await session.close()
    }
}
