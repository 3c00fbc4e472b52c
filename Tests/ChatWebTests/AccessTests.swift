import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ChatWeb

@Suite("Access: token, Host and Origin")
struct AccessTests {
    @Test("the token file is created 0600 and reused")
    func tokenFile() async throws {
        try await withTemporaryHome { home in
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            let first = try AccessToken.loadOrCreate(home: home)
            let second = try AccessToken.loadOrCreate(home: home)
            #expect(first == second)
            let attributes = try FileManager.default.attributesOfItem(atPath: home.appendingPathComponent(AccessToken.fileName).path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(first.matches(first.value))
            #expect(!first.matches(AccessToken.random().value))
            #expect(!first.matches(first.value.dropLast()))
            #expect(!"\(first)".contains(first.value))
        }
    }

    @Test("a corrupt token file is an error, not a silent new token")
    func corruptTokenFile() async throws {
        try await withTemporaryHome { home in
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            try "nope".write(to: home.appendingPathComponent(AccessToken.fileName), atomically: true, encoding: .utf8)
            #expect(throws: ChatWebError.self) { try AccessToken.loadOrCreate(home: home) }
        }
    }

    @Test("Host and Origin: loopback names and our own port only")
    func policy() {
        let policy = LocalAccessPolicy(token: .random(), port: BoundPort(7717))
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: nil) == nil)
        #expect(policy.checkOrigin(host: "localhost:7717", origin: "http://localhost:7717") == nil)
        #expect(policy.checkOrigin(host: "[::1]:7717", origin: "http://127.0.0.1:7717") == nil)
        #expect(policy.checkOrigin(host: nil, origin: nil) == nil)
        // DNS rebinding: a foreign name resolving to 127.0.0.1.
        #expect(policy.checkOrigin(host: "evil.example:7717", origin: nil)?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1.evil.example", origin: nil)?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7718", origin: nil)?.code == .forbidden)
        // Another site, another local port, a sandboxed page, https.
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "http://evil.example")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "http://127.0.0.1:8000")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "null")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "https://127.0.0.1:7717")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "http://127.0.0.1:7717/x")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "ws://localhost") == nil)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "ws://evil.example")?.code == .forbidden)
        #expect(policy.checkOrigin(host: "127.0.0.1:7717", origin: "ws://localhost:8000")?.code == .forbidden)
        #expect(policy.cookieName == "p2pchat_token_7717")
        #expect(LocalAccessPolicy.split(authority: "a:b:c") == nil)
        #expect(LocalAccessPolicy.split(authority: "[::1") == nil)
        #expect(LocalAccessPolicy.split(authority: "h:70000") == nil)
    }

    @Test("every path refuses a missing or wrong token (401) and a foreign Origin (403)")
    func refusals() async throws {
        try await withTemporaryHome { home in
            let node = try await makeNode(home: home, name: "alice")
            let server = try makeServer(node: node, home: home)
            let wrong = AccessToken.random().value
            try await server.makeApplication(port: 0).test(.router) { client in
                for path in ["/", "/assets/app.js", "/api/status", "/api/contacts", "/ws", "/nope"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                        #expect(response.headers[.wwwAuthenticate] != nil)
                    }
                    try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(wrong)"]) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                    }
                    try await client.execute(uri: path + "?token=\(wrong)", method: .get) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                    }
                    try await client.execute(uri: path, method: .get, headers: [.cookie: "p2pchat_token=\(wrong)"]) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                    }
                    try await client.execute(uri: path, method: .get, headers: authorized(server, [.origin: "http://evil.example"])) { response in
                        #expect(response.status == .forbidden, "\(path)")
                    }
                }
                try await client.execute(uri: "/api/contacts/1/messages", method: .post, body: try json(["text": "x"])) { response in
                    #expect(response.status == .unauthorized)
                }
                let body = try await client.execute(uri: "/api/status", method: .get) { try object($0) }
                #expect((body["error"] as? [String: Any])?["code"] as? String == "unauthorized")
            }
        }
    }

    @Test("?token= on a page sets a cookie and redirects to the page without the token")
    func tokenToCookie() async throws {
        try await withTemporaryHome { home in
            let node = try await makeNode(home: home, name: "alice")
            let server = try makeServer(node: node, home: home)
            try await server.makeApplication(port: 0).test(.router) { client in
                let cookie = try await client.execute(uri: "/?token=\(server.token.value)", method: .get) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/")
                    let setCookie = try #require(response.headers[.setCookie])
                    #expect(setCookie.contains("HttpOnly"))
                    #expect(setCookie.contains("SameSite=Strict"))
                    return String(setCookie.split(separator: ";")[0])
                }
                try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    #expect(String(buffer: response.body).contains("/assets/app.js"))
                }
                try await client.execute(uri: "/assets/app.js", method: .get, headers: [.cookie: cookie]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/javascript") == true)
                }
                try await client.execute(uri: "/api/status", method: .get, headers: [.cookie: cookie, .origin: "http://localhost"]) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}
