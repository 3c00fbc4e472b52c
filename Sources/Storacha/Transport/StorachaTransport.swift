/// Something that performs HTTP exchanges for ``StorachaClient``: ``HTTPClient`` (http:// and
/// https:// over NIO and NIOSSL) by default; another implementation can be plugged in.
public protocol StorachaTransport: Sendable {
    /// Sends `request` and returns the response (following redirects for GET); non-2xx statuses
    /// are returned, connection failures throw ``StorachaError`` `.httpFailure`.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

extension HTTPClient: StorachaTransport {}
