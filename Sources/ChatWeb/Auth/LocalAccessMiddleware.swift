import Foundation
import HTTPTypes
import Hummingbird

/// Applies `LocalAccessPolicy` to every request (pages, assets, API and the WebSocket upgrade),
/// and turns a `?token=` visit into a cookie and a redirect to the same page without the token
/// (so the secret leaves the address bar and the history).
///
/// Every response also carries headers that keep the page to itself: no framing, no sniffing,
/// no referrer, a CSP that allows only our own scripts and connections.
struct LocalAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: LocalAccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await decide(request, context: context, next: next)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        return response
    }

    private func decide(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        if let refusal = policy.checkOrigin(host: host, origin: request.headers[.origin]) {
            context.logger.notice("refused web request", metadata: ["reason": "\(refusal.message)", "path": "\(request.uri.path)"])
            throw refusal
        }
        let queryToken = request.uri.queryParameters["token"].map(String.init)
        guard let presented = presentedToken(request, queryToken: queryToken), policy.token.matches(presented) else {
            throw ChatWebError(.unauthorized, "missing or wrong access token; open the URL that `p2pchat up` printed")
        }
        if queryToken != nil, request.method == .get, !request.uri.path.hasPrefix("/api/"), request.uri.path != "/ws" {
            var location = request.uri.path
            let others = request.uri.queryParameters.filter { $0.key != "token" }
            if !others.isEmpty {
                location += "?" + others.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            }
            return Response(status: .seeOther, headers: [
                .location: location,
                .setCookie: "\(policy.cookieName)=\(policy.token.value); Path=/; HttpOnly; SameSite=Strict",
                .cacheControl: "no-store",
            ])
        }
        return try await next(request, context)
    }

    /// The token from a header, the query or our cookie, in that order.
    private func presentedToken(_ request: Request, queryToken: String?) -> String? {
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            return String(authorization.dropFirst("Bearer ".count))
        }
        if let header = request.headers[.p2pchatToken] { return header }
        if let queryToken { return queryToken }
        return request.cookies[policy.cookieName]?.value
    }
}

extension HTTPField.Name {
    /// `X-P2PChat-Token`: the access token for scripts that prefer a header.
    static let p2pchatToken = HTTPField.Name("X-P2PChat-Token")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
