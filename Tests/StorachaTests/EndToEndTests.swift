import Foundation
import IPLD
import LibP2P
import Multiformats
import Storacha
import StorachaConformance
import Testing

/// A transport that answers from a closure (for gateway tampering).
struct StubTransport: StorachaTransport {
    let answer: @Sendable (HTTPRequest) -> HTTPResponse
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { answer(request) }
}

/// A running conformance server with a provisioned space, its owner and a contact.
struct Harness {
    let clock = TestClock()
    let server: ConformanceServer
    let url: URL
    let configuration: StorachaConfiguration
    let space: Signer
    let owner: Signer
    let contact: Signer
    let ownerProof: Delegation

    static func start() async throws -> Harness {
        try await Harness(provision: true)
    }

    private init(provision: Bool) async throws {
        let serviceKey = try testSigner(0x53)
        let service = ConformanceService(key: serviceKey, did: try DID.web("localhost"), clock: clock.clock)
        server = ConformanceServer(service: service)
        url = try await server.start(port: 0)
        space = try testSigner(0x5a)
        owner = try Signer(identity: IdentityKeyPair.generate())
        contact = try Signer(identity: IdentityKeyPair.generate())
        if provision { service.provision(space.did) }
        var configuration = StorachaConfiguration(serviceURL: url, serviceDID: service.did, gatewayURL: url)
        // Learn the service key the way a client would, then verify every receipt with it.
        let probe = StorachaClient(agent: owner, configuration: configuration, clock: clock.clock, pollDelay: { _ in })
        configuration.serviceKey = try await probe.resolveServiceKey()
        self.configuration = configuration
        // The space (made with Storacha's tools) delegated space/* to the owner's did:key.
        ownerProof = try Delegation.delegate(
            abilities: ["space/*", "upload/*", "access/*"], on: space.did, to: owner.did, issuer: space, expiration: nil,
            validator: UCANValidator(clock: clock.clock)
        )
    }

    func client(_ agent: Signer) -> StorachaClient {
        StorachaClient(agent: agent, configuration: configuration, clock: clock.clock, pollDelay: { _ in })
    }

    func stop() async throws {
        try await server.stop()
    }

    /// Runs `body` against a fresh server and stops the server afterwards, also on failure.
    static func run(_ body: (Harness) async throws -> Void) async throws {
        let harness = try await Harness.start()
        do {
            try await body(harness)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
    }
}

@Suite("Storacha client against the local conformance server")
struct EndToEndTests {
    @Test("deposit through a re-delegated ability, then list, fetch, remove as the owner")
    func mailboxFlow() async throws {
        try await Harness.run { h in
            #expect(h.configuration.serviceKey == (try testSigner(0x53)).did)
            let owner = h.client(h.owner), contact = h.client(h.contact)

            // Owner re-delegates only the deposit abilities to the contact, with an expiry; the
            // archive travels to the contact (here: as CLI text) and is imported there.
            let grant = try owner.delegate(
                abilities: Ability.depositAbilities, on: h.space.did, to: h.contact.did,
                expiration: h.clock.now + 600, proofs: [h.ownerProof]
            )
            let imported = try Delegation(parsing: try grant.formatted())
            #expect(imported.proofs.first?.cid == h.ownerProof.cid)

            let envelope = Array("sealed envelope \(UUID())".utf8)
            let added = try await contact.addBlob(envelope, to: h.space.did, proofs: [imported])
            #expect(added.digest == Multihash.sha256(envelope))
            #expect(added.site != nil)
            #expect(h.server.service.hasBlob(added.digest))

            // Adding the same bytes again skips the PUT and is accepted at once.
            let again = try await contact.addBlob(envelope, to: h.space.did, proofs: [imported])
            #expect(again.digest == added.digest)

            // The contact cannot list or remove.
            await #expect { try await contact.listBlobs(in: h.space.did, proofs: [imported]) } throws: {
                ($0 as? StorachaError)?.remoteName == "Unauthorized"
            }

            // The owner drains: list, fetch (hash verified), remove.
            let page = try await owner.listBlobs(in: h.space.did, proofs: [h.ownerProof])
            #expect(page.results.map(\.digest) == [added.digest])
            #expect(page.results.first?.size == envelope.count)
            let fetched = try await owner.fetchBlob(added.digest)
            #expect(fetched == envelope)
            #expect(try await owner.removeBlob(added.digest, from: h.space.did, proofs: [h.ownerProof]) == envelope.count)
            #expect(try await owner.listBlobs(in: h.space.did, proofs: [h.ownerProof]).results.isEmpty)
            #expect(try await owner.removeBlob(added.digest, from: h.space.did, proofs: [h.ownerProof]) == 0)
        }
    }

    @Test("revoking by not re-issuing: deposits stop once the delegation expires")
    func revocationByExpiry() async throws {
        try await Harness.run { h in
            let owner = h.client(h.owner), contact = h.client(h.contact)
            let grant = try owner.delegate(
                abilities: Ability.depositAbilities, on: h.space.did, to: h.contact.did,
                expiration: h.clock.now + 60, proofs: [h.ownerProof]
            )
            _ = try await contact.addBlob([1, 2, 3], to: h.space.did, proofs: [grant])
            h.clock.advance(by: 61)
            await #expect { try await contact.addBlob([4, 5, 6], to: h.space.did, proofs: [grant]) } throws: {
                let error = $0 as? StorachaError
                return error?.code == .errorReceipt && error?.remoteName == "Expired"
            }
            #expect(try await owner.listBlobs(in: h.space.did, proofs: [h.ownerProof]).results.count == 1)
        }
    }

    @Test("the server refuses forged, misaddressed, insufficient and unproven invocations")
    func serverRefusals() async throws {
        try await Harness.run { h in
            let contact = h.client(h.contact)
            let grant = try h.client(h.owner).delegate(
                abilities: Ability.depositAbilities, on: h.space.did, to: h.contact.did,
                expiration: h.clock.now + 600, proofs: [h.ownerProof]
            )
            func name(of invocation: Delegation) async throws -> String? {
                let message = try await contact.execute([invocation])
                return try #require(message.receipt(for: invocation.cid)).errorName
            }
            let list = Capability(can: Ability.spaceBlobList, with: h.space.did.string)
            // Forged signature.
            let good = try contact.makeInvocation(list, proofs: [h.ownerProof])
            var forged = good.ucan
            forged.signature = try UCANSignature(ed25519: [UInt8](repeating: 1, count: 64))
            #expect(try await name(of: try Delegation(ucan: forged, proofs: [h.ownerProof])) == "InvalidSignature")
            // Addressed to the service's did:key instead of its did:web.
            let misaddressed = try Delegation.issue(
                issuer: h.contact, audience: try testSigner(0x53).did, capabilities: [list], expiration: h.clock.now + 30, proofs: [grant]
            )
            #expect(try await name(of: misaddressed) == "InvalidAudience")
            // Deposit rights only.
            #expect(try await name(of: try contact.makeInvocation(list, proofs: [grant])) == "Unauthorized")
            // Someone else's delegation.
            #expect(try await name(of: try contact.makeInvocation(list, proofs: [h.ownerProof])) == "Unauthorized")
            // Expired invocation.
            let stale = try contact.makeInvocation(Capability(can: Ability.spaceBlobAdd, with: h.space.did.string), proofs: [grant], expiration: h.clock.now - 1)
            #expect(try await name(of: stale) == "Expired")
            // An unknown ability.
            let unknown = try h.client(h.space).makeInvocation(Capability(can: "space/teleport", with: h.space.did.string))
            #expect(try await name(of: unknown) == "HandlerNotFound")
        }
    }

    @Test("error receipts become typed errors: unprovisioned space, writes disabled")
    func errorReceipts() async throws {
        try await Harness.run { h in
            let stranger = try testSigner(0x77)
            await #expect { try await h.client(stranger).addBlob([9], to: stranger.did, proofs: []) } throws: {
                ($0 as? StorachaError)?.remoteName == "InsufficientStorage"
            }
            h.server.service.setWritesDisabled(true)
            await #expect { try await h.client(h.owner).addBlob([9], to: h.space.did, proofs: [h.ownerProof]) } throws: {
                let error = $0 as? StorachaError
                return error?.code == .errorReceipt && error?.remoteName == "ServiceUnavailable"
            }
            // Reads keep working.
            _ = try await h.client(h.owner).listBlobs(in: h.space.did, proofs: [h.ownerProof])
        }
    }

    @Test("HTTP failures, bad receipts signatures and tampered gateway bytes give clear errors")
    func transportFailures() async throws {
        let h = try await Harness.start()
        let url = h.url
        try await h.stop()
        // Server gone: connection refused.
        await #expect { try await h.client(h.owner).listBlobs(in: h.space.did, proofs: [h.ownerProof]) } throws: {
            ($0 as? StorachaError)?.code == .httpFailure
        }
        // https is not supported by the built-in transport.
        var tls = h.configuration
        tls.serviceURL = URL(string: "https://up.storacha.network")!
        await #expect { try await StorachaClient(agent: h.owner, configuration: tls).listBlobs(in: h.space.did, proofs: []) } throws: {
            ($0 as? StorachaError)?.code == .httpFailure
        }
        // Non-200 answers.
        let failing = StubTransport { _ in HTTPResponse(status: 503, body: Array("down".utf8)) }
        let client = StorachaClient(agent: h.owner, configuration: h.configuration, transport: failing)
        await #expect { try await client.listBlobs(in: h.space.did, proofs: []) } throws: {
            ($0 as? StorachaError)?.code == .httpFailure
        }
        // A gateway that returns other bytes than asked for.
        let liar = StubTransport { _ in HTTPResponse(status: 200, body: [0xde, 0xad]) }
        let fetcher = StorachaClient(agent: h.owner, configuration: h.configuration, transport: liar)
        await #expect { try await fetcher.fetchBlob(Multihash.sha256([1, 2, 3])) } throws: {
            ($0 as? StorachaError)?.code == .hashMismatch
        }
        _ = url
    }

    @Test("receipts signed by another key are refused when the service key is known")
    func receiptSignature() async throws {
        try await Harness.run { h in
            var configuration = h.configuration
            configuration.serviceKey = try testSigner(0x01).did
            let client = StorachaClient(agent: h.owner, configuration: configuration, clock: h.clock.clock, pollDelay: { _ in })
            await #expect { try await client.listBlobs(in: h.space.did, proofs: [h.ownerProof]) } throws: {
                ($0 as? StorachaError)?.code == .invalidSignature
            }
        }
    }

    @Test("upload/add, list, remove and access/delegate")
    func uploadsAndAccess() async throws {
        try await Harness.run { h in
            let owner = h.client(h.owner)
            let root = CID.v1(codec: .raw, multihash: Multihash.sha256([1]))
            let shard = CID.v1(codec: .car, multihash: Multihash.sha256([2]))
            try await owner.addUpload(root: root, shards: [shard], to: h.space.did, proofs: [h.ownerProof])
            let page = try await owner.listUploads(in: h.space.did, proofs: [h.ownerProof])
            #expect(page.results.map(\.root) == [root])
            try await owner.removeUpload(root: root, from: h.space.did, proofs: [h.ownerProof])
            #expect(try await owner.listUploads(in: h.space.did, proofs: [h.ownerProof]).results.isEmpty)

            let grant = try owner.delegate(
                abilities: Ability.depositAbilities, on: h.space.did, to: h.contact.did,
                expiration: h.clock.now + 600, proofs: [h.ownerProof]
            )
            try await owner.storeDelegations([grant], on: h.space.did, proofs: [h.ownerProof])
            #expect(h.server.service.storedDelegations.map(\.cid) == [grant.cid])
        }
    }

    @Test("blob/accept receipt is also served by the receipts endpoint")
    func receiptsEndpoint() async throws {
        try await Harness.run { h in
            let owner = h.client(h.owner)
            let bytes = Array("poll me".utf8)
            let digest = Multihash.sha256(bytes)
            let receipt = try await owner.invoke(
                Capability(can: Ability.spaceBlobAdd, with: h.space.did.string, nb: ["blob": .map(["digest": .bytes(digest.bytes), "size": .int(bytes.count)])]),
                proofs: [h.ownerProof]
            )
            let accept = try #require(receipt.forkedTasks.first { $0.ucan.capabilities.first?.can == Ability.blobAccept })
            // Not concluded yet: the endpoint has nothing and polling gives up with a timeout.
            await #expect { try await owner.pollReceipt(for: accept.cid) } throws: { ($0 as? StorachaError)?.code == .timeout }
            // After the full flow the accept receipt is there (via a 302 to the stored message).
            _ = try await owner.addBlob(bytes, to: h.space.did, proofs: [h.ownerProof])
            let polled = try await owner.pollReceipt(for: accept.cid)
            #expect(polled.okValue?["site"]?.linkValue != nil)
        }
    }

    @Test("the server answers bad transport input with 415, 406 and 400")
    func badTransportInput() async throws {
        try await Harness.run { h in
            let http = HTTPClient()
            func post(_ body: [UInt8], type: String, accept: String = StorachaClient.carContentType) async throws -> Int {
                try await http.send(HTTPRequest(
                    method: "POST", url: h.url, headers: [("Content-Type", type), ("Accept", accept)], body: body
                )).status
            }
            #expect(try await post([1, 2, 3], type: "application/json") == 415)
            #expect(try await post([1, 2, 3], type: StorachaClient.carContentType, accept: "application/cbor") == 406)
            #expect(try await post([1, 2, 3], type: StorachaClient.carContentType) == 400)
            let empty = try StorachaVectors.bytes("upload-service-empty.car")
            #expect(try await post(empty, type: StorachaClient.carContentType) == 400)
            // A PUT without an allocation is forbidden; the gateway 404s on unknown blobs.
            let cid = CID.v1(codec: .raw, multihash: Multihash.sha256([7]))
            let put = try await http.send(HTTPRequest(method: "PUT", url: h.url.appendingPathComponent("blob/\(cid)"), body: [7]))
            #expect(put.status == 403)
            await #expect { try await h.client(h.owner).fetchBlock(cid) } throws: { ($0 as? StorachaError)?.code == .notFound }
        }
    }

    @Test("an access/claim-shaped CAR (root = the UCAN) imports like an archive")
    func claimShape() throws {
        let space = try testSigner(0x31), agent = try testSigner(0x32)
        let delegation = try Delegation.issue(
            issuer: space, audience: agent.did, capabilities: [Capability(can: "space/*", with: space.did.string)], expiration: nil
        )
        let car = CARWriter.encode(roots: [delegation.cid], blocks: delegation.exportedBlocks)
        let imported = try Delegation(archive: car)
        #expect(imported.cid == delegation.cid)
        #expect(imported.ucan.verifySignature(key: space.did))
    }
}
