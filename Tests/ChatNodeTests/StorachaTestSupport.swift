import ChatStore
import Foundation
import LibP2P
import Storacha
import StorachaConformance
import Synchronization
import Testing

@testable import ChatNode

/// The local Storacha conformance service on 127.0.0.1 (port 0), standing in for the hosted
/// API, with one provisioned space whose key plays "Storacha's own tools".
struct TestStoracha: Sendable {
    let server: ConformanceServer
    let endpoint: StorachaEndpoint
    /// The space's own key (root authority over the space).
    let space: Signer
    /// The service's UCAN clock (the accounts' clock).
    let clock: StorachaClock

    /// Starts a service whose UCAN clock is `clock` (the accounts' clock).
    static func start(clock: @escaping @Sendable () -> Date) async throws -> TestStoracha {
        let storachaClock = StorachaClock { Int64(clock().timeIntervalSince1970.rounded(.down)) }
        let service = ConformanceService(
            key: try Signer(ed25519Seed: (0..<32).map { _ in UInt8.random(in: 0...255) }), did: try DID.web("localhost"), clock: storachaClock)
        let server = ConformanceServer(service: service)
        let url = try await server.start(port: 0)
        let space = try Signer(ed25519Seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        service.provision(space.did)
        let endpoint = try StorachaEndpoint(serviceURL: url, serviceDID: service.did.string, gatewayURL: url)
        return TestStoracha(server: server, endpoint: endpoint, space: space, clock: storachaClock)
    }

    /// What `storacha delegation create <did> --can 'space/*'` makes: the space delegating to the
    /// account's Storacha did:key (as `storacha space list` shows it).
    func spaceDelegation(to account: ChatAccount, abilities: [String] = ["space/*"], expiration: Int64? = nil) throws -> Delegation {
        try Delegation.issue(
            issuer: space, audience: try StorachaDirectory(account: account).did(),
            capabilities: abilities.map { Capability(can: $0, with: space.did.string) }, expiration: expiration)
    }

    /// The blobs listed in the space (as its owner sees them).
    func listing() async throws -> [BlobListItem] {
        let client = StorachaClient(agent: space, configuration: try endpoint.configuration(), clock: clock)
        return try await client.listBlobs(in: space.did, proofs: []).results
    }
}

/// Runs `body` with a running conformance service, stopped afterwards.
func withStoracha<T>(clock: @escaping @Sendable () -> Date = { Date() }, _ body: (TestStoracha) async throws -> T) async throws -> T {
    let storacha = try await TestStoracha.start(clock: clock)
    do {
        let result = try await body(storacha)
        try await storacha.server.stop()
        return result
    } catch {
        try? await storacha.server.stop()
        throw error
    }
}

/// `account` uses `storacha`'s service and receives at its space.
func useSpace(_ account: ChatAccount, of storacha: TestStoracha) async throws {
    let directory = StorachaDirectory(account: account, logger: quietLogger("storacha"))
    try await directory.configure(storacha.endpoint)
    try await directory.addSpace(try storacha.spaceDelegation(to: account))
}

/// Every request the conformance service received (its test hook), in order.
final class ObservedStorachaRequests: Sendable {
    let all = Mutex<[ConformanceService.ObservedRequest]>([])

    /// Starts recording what `service` receives.
    init(_ service: ConformanceService) {
        service.setObserver { [self] request in self.all.withLock { $0.append(request) } }
    }

    var requests: [ConformanceService.ObservedRequest] { all.withLock { $0 } }
}

/// `delegation` and every delegation in its proof chain.
func chain(_ delegation: Delegation, depth: Int = 0) -> [Delegation] {
    guard depth < Delegation.maxProofDepth else { return [delegation] }
    return [delegation] + delegation.proofs.flatMap { chain($0, depth: depth + 1) }
}

/// Whether `needle` occurs in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
}
