import Foundation
import LibP2P
import NIOCore
import NIOPosix
import NIOSSL
import Storacha
import StorachaConformance
import Synchronization
import Testing

/// A test-only self-signed certificate (P-256, CA:TRUE, valid 10 years) and its key, for
/// CN/SAN `localhost` and IP 127.0.0.1 only. Made once with:
///
///     openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 -nodes \
///       -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
///       -keyout key.pem -out cert.pem
///
/// Never trusted outside these tests.
enum TestTLS {
    static let certificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIBmDCCAT+gAwIBAgIUYFu+GDQCjWuZHbFEaDz/EclyvA8wCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MB4XDTI2MTEyNzE0NTgxNVoXDTM2MTEyNDE0
        NTgxNVowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
        AQcDQgAEr+vZY/l7XUXfKJ7WqVIlEoe4BsTtbyVcP5TzVOToPrWrYjHrO76y95kc
        +whM4VcN0a992cBpadklj00feTel+KNvMG0wHQYDVR0OBBYEFF8RtnF+SjZ5RLI/
        Lq8XWFwMuin8MB8GA1UdIwQYMBaAFF8RtnF+SjZ5RLI/Lq8XWFwMuin8MA8GA1Ud
        EwEB/wQFMAMBAf8wGgYDVR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMAoGCCqGSM49
        BAMCA0cAMEQCIByu+H6BgkI+Ktt1S0K38D/kSUVSsc+3UHRs6P/kJaEMAiBnxz8B
        BQRRhFoWsSMxbOgqknEyJoMZFksMw7RTcRtvQQ==
        -----END CERTIFICATE-----
        """
    static let privateKeyPEM = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgalHj3u0eX+tkPQS3
        ebOpY9wdgsQEpMp/XxHlanxxajChRANCAASv69lj+XtdRd8ontapUiUSh7gGxO1v
        JVw/lPNU5Og+tatiMes7vrL3mRz7CEzhVw3Rr33ZwGlp2SWPTR95N6X4
        -----END PRIVATE KEY-----
        """

    static func certificate() throws -> NIOSSLCertificate {
        try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem)
    }

    /// A server context presenting the test certificate.
    static func serverContext() throws -> NIOSSLContext {
        let key = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(try certificate())], privateKey: .privateKey(key))
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client that trusts the test certificate in addition to the system roots.
    static func trustingClient() throws -> HTTPClient {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.additionalTrustRoots = [.certificates([try certificate()])]
        return HTTPClient(tlsConfiguration: configuration)
    }

    /// A conformance server that serves TLS with the test certificate.
    static func conformanceServer(_ service: ConformanceService) throws -> ConformanceServer {
        let context = try serverContext()
        return ConformanceServer(service: service, secureChannel: { channel in
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        })
    }
}

@Suite("HTTPClient over TLS")
struct HTTPSTests {
    /// Runs `body` with a TLS conformance server's https base URL.
    private func withServer(_ body: (URL, ConformanceService) async throws -> Void) async throws {
        let service = ConformanceService(key: try testSigner(0x53), did: try DID.web("localhost"), clock: TestClock().clock)
        let server = try TestTLS.conformanceServer(service)
        let url = try await server.start(port: 0)
        do {
            try await body(url, service)
        } catch {
            try await server.stop()
            throw error
        }
        try await server.stop()
    }

    private func didDocument(_ base: URL) -> HTTPRequest {
        HTTPRequest(method: "GET", url: base.appendingPathComponent(".well-known/did.json"))
    }

    @Test("a request succeeds when the certificate is trusted via the injected configuration (IP and localhost)")
    func trusted() async throws {
        try await withServer { url, _ in
            #expect(url.scheme == "https")
            let http = try TestTLS.trustingClient()
            let byIP = try await http.send(didDocument(url))
            #expect(byIP.status == 200)
            #expect(String(decoding: byIP.body, as: UTF8.self).contains("did:web:localhost"))
            // By name: SNI = localhost, checked against the DNS SAN.
            let port = try #require(url.port)
            let byName = try #require(URL(string: "https://localhost:\(port)"))
            #expect(try await http.send(didDocument(byName)).status == 200)
        }
    }

    @Test("the default (system) trust store rejects the self-signed certificate as untrusted")
    func untrustedByDefault() async throws {
        try await withServer { url, _ in
            await #expect {
                try await HTTPClient().send(didDocument(url))
            } throws: { error in
                guard let error = error as? StorachaError else { return false }
                return error.code == .untrustedCertificate && error.message.contains("not trusted")
            }
        }
    }

    @Test("a trusted certificate for other names fails as a hostname mismatch")
    func hostnameMismatch() async throws {
        // A bare TLS listener on ::1, which the certificate (localhost, 127.0.0.1) does not name.
        let context = try TestTLS.serverContext()
        let listener: any Channel
        do {
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                }
                .bind(host: "::1", port: 0).get()
        } catch {
            // No IPv6 loopback here: nothing to test against.
            return
        }
        let port = try #require(listener.localAddress?.port)
        let url = try #require(URL(string: "https://[::1]:\(port)/"))
        await #expect {
            try await TestTLS.trustingClient().send(HTTPRequest(method: "GET", url: url))
        } throws: { error in
            (error as? StorachaError)?.code == .hostnameMismatch
        }
        try await listener.close()
    }

    @Test("TLS below 1.2 is not allowed; other schemes are refused")
    func configuration() async throws {
        var old = TLSConfiguration.makeClientConfiguration()
        old.minimumTLSVersion = .tlsv1
        #expect(HTTPClient(tlsConfiguration: old).tlsConfiguration.minimumTLSVersion == .tlsv12)
        await #expect {
            try await HTTPClient().send(HTTPRequest(method: "GET", url: URL(string: "ftp://127.0.0.1/")!))
        } throws: { ($0 as? StorachaError)?.code == .httpFailure }
    }

    @Test("a full blob add and fetch against the conformance server over https")
    func blobAddOverHTTPS() async throws {
        try await withServer { url, service in
            let clock = TestClock()
            let space = try testSigner(0x5a)
            let owner = try Signer(identity: IdentityKeyPair.generate())
            service.provision(space.did)
            let http = try TestTLS.trustingClient()
            var configuration = StorachaConfiguration(serviceURL: url, serviceDID: service.did, gatewayURL: url)
            let probe = StorachaClient(agent: owner, configuration: configuration, transport: http, clock: clock.clock, pollDelay: { _ in })
            configuration.serviceKey = try await probe.resolveServiceKey()
            let proof = try Delegation.delegate(
                abilities: ["space/*", "upload/*", "access/*"], on: space.did, to: owner.did, issuer: space, expiration: nil,
                validator: UCANValidator(clock: clock.clock)
            )
            let client = StorachaClient(agent: owner, configuration: configuration, transport: http, clock: clock.clock, pollDelay: { _ in })
            let bytes = Array("hello over TLS".utf8)
            let result = try await client.addBlob(bytes, to: space.did, proofs: [proof])
            #expect(result.size == bytes.count)
            #expect(try await client.fetchBlob(result.digest) == bytes)
        }
    }
}
