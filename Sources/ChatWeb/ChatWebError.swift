import ChatNode
import ChatStore
import Foundation
import Hummingbird
import Multiformats

/// The one public error type of the `ChatWeb` module.
///
/// A struct with an extensible code (the shape swift-certificates uses for `CertificateError`).
/// It is also the API's error response: `HTTPResponseError` turns it into a status and a JSON
/// body `{"error": {"code": "...", "message": "..."}}`.
public struct ChatWebError: CodedError {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        let status: HTTPResponse.Status
        init(_ name: String, _ status: HTTPResponse.Status) {
            self.name = name
            self.status = status
        }
        public var description: String { name }

        /// The request carries no access token or a wrong one.
        public static let unauthorized = Code("unauthorized", .unauthorized)
        /// The request comes from a page or host name that is not this server's (DNS rebinding, CSRF).
        public static let forbidden = Code("forbidden", .forbidden)
        /// A path, contact or message that does not exist.
        public static let notFound = Code("not found", .notFound)
        /// A request body or parameter that does not parse or is out of range.
        public static let badRequest = Code("bad request", .badRequest)
        /// The request conflicts with the current state (a duplicate contact, cancelling a sent message).
        public static let conflict = Code("conflict", .conflict)
        /// A body or message over a limit.
        public static let tooLarge = Code("too large", .contentTooLarge)
        /// A feature that the node does not have yet (file attachments).
        public static let notImplemented = Code("not implemented", .notImplemented)
        /// The server could not start (no free port, unreadable token file).
        public static let startup = Code("startup", .internalServerError)
        /// Anything else that went wrong inside the node or its database.
        public static let `internal` = Code("internal", .internalServerError)
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation, one line; shown in the UI.
    public var message: String
    /// The error that caused this one, if any (logged, never sent to the browser).
    public var underlying: (any Error)?

    /// An error of `code` explained by `message`.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// Translates errors of the layers below into API errors with a fitting status.
    static func wrapping(_ error: any Error) -> ChatWebError {
        switch error {
        case let error as ChatWebError:
            return error
        case let error as ChatNodeError:
            switch error.code {
            case .unknownContact: return ChatWebError(.notFound, error.message, underlying: error)
            case .malformedInput, .invalidInvite, .expiredInvite: return ChatWebError(.badRequest, error.message, underlying: error)
            case .limitExceeded: return ChatWebError(.tooLarge, error.message, underlying: error)
            default: return ChatWebError(.internal, error.message, underlying: error)
            }
        case let error as ChatStoreError:
            switch error.code {
            case .notFound: return ChatWebError(.notFound, error.message, underlying: error)
            case .invalidArgument: return ChatWebError(.badRequest, error.message, underlying: error)
            case .duplicateContact: return ChatWebError(.conflict, error.message, underlying: error)
            default: return ChatWebError(.internal, error.message, underlying: error)
            }
        default:
            return ChatWebError(.internal, "\(error)", underlying: error)
        }
    }
}

extension ChatWebError: HTTPResponseError {
    /// The HTTP status for the code.
    public var status: HTTPResponse.Status { code.status }

    /// A JSON body with the code and message.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let json = try JSONEncoder().encode(ErrorBody(error: .init(code: code.name, message: message)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if code == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"p2pchat\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// The JSON body of an error response.
struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable {
        var code: String
        var message: String
    }
    var error: Detail
}
