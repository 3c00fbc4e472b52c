import Foundation
import IPLD
import Multiformats

/// A ucanto client for the Storacha service: invokes capabilities on spaces with delegated
/// proofs and fetches blobs from the gateway.
///
/// Every call builds an invocation (`aud` = ``StorachaConfiguration/serviceDID``, `exp` = now +
/// ``invocationLifetime`` as dag-ucan's default), sends it in an agent-message CAR with
/// `content-type`/`accept: application/vnd.ipld.car` (ucanto `transport/src/car`), and reads
/// the receipt from the response's `report`. Error receipts become ``StorachaError``
/// `.errorReceipt` with the service's error name.
///
/// For a chat mailbox: the recipient owns (or holds `space/*` on) a space and issues a
/// contact a delegation of ``Ability/depositAbilities`` (``delegate(abilities:on:to:expiration:proofs:)``);
/// the contact calls ``addBlob(_:to:proofs:)`` with it; the recipient drains with
/// ``listBlobs(in:cursor:size:proofs:)``, ``fetchBlob(_:)`` and ``removeBlob(_:from:proofs:)``.
public struct StorachaClient: Sendable {
    /// The media type of agent-message CARs (ucanto `transport/src/car/codec.js`).
    public static let carContentType = "application/vnd.ipld.car"
    /// The media type of a single raw block from a trustless gateway.
    public static let rawContentType = "application/vnd.ipld.raw"
    /// Seconds an invocation stays valid (dag-ucan `issue` default `lifetimeInSeconds = 30`).
    public static let invocationLifetime: Int64 = 30
    /// The client identification header the JS client sends.
    public static let clientHeader = (name: "X-Client", value: "Storacha/1 (swift; p2pchat)")

    /// Where the service is.
    public let configuration: StorachaConfiguration
    /// The agent that signs invocations (our did:key).
    public let agent: Signer
    private let transport: any StorachaTransport
    private let clock: StorachaClock
    private let pollDelay: @Sendable (_ attempt: Int) async throws -> Void

    /// Creates a client.
    ///
    /// - Parameter pollDelay: waited between receipt polls (default: one second per attempt).
    public init(
        agent: Signer, configuration: StorachaConfiguration = .default,
        transport: any StorachaTransport = HTTPClient(), clock: StorachaClock = .system,
        pollDelay: (@Sendable (_ attempt: Int) async throws -> Void)? = nil
    ) {
        self.agent = agent
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
        self.pollDelay = pollDelay ?? { attempt in try await Task.sleep(for: .seconds(attempt)) }
    }

    // MARK: Invocation plumbing

    /// Builds an invocation of `capability` by the agent, addressed to the service.
    public func makeInvocation(
        _ capability: Capability, proofs: [Delegation] = [], expiration: Int64?? = nil,
        facts: [IPLDValue] = [], attached: [IPLDBlock] = []
    ) throws -> Delegation {
        let exp: Int64? = expiration ?? (clock.now() + Self.invocationLifetime)
        return try Delegation.issue(
            issuer: agent, audience: configuration.serviceDID, capabilities: [capability], expiration: exp,
            facts: facts, proofs: proofs, attached: attached
        )
    }

    /// Sends invocations in one agent message and returns the response message.
    public func execute(_ invocations: [Delegation]) async throws -> AgentMessage {
        let body = try AgentMessage(invocations: invocations).car()
        let request = HTTPRequest(
            method: "POST", url: configuration.serviceURL,
            headers: [("Content-Type", Self.carContentType), ("Accept", Self.carContentType), Self.clientHeader],
            body: body
        )
        let response = try await transport.send(request)
        guard response.status == 200 else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw StorachaError(.httpFailure, "service answered HTTP \(response.status): \(text)")
        }
        do {
            return try AgentMessage(car: response.body)
        } catch {
            throw StorachaError(.malformedInput, "service response is not an agent message CAR", underlying: error)
        }
    }

    /// Invokes one capability and returns its receipt (verified if the service key is known).
    public func invoke(
        _ capability: Capability, proofs: [Delegation] = [], expiration: Int64?? = nil,
        facts: [IPLDValue] = [], attached: [IPLDBlock] = []
    ) async throws -> Receipt {
        let invocation = try makeInvocation(capability, proofs: proofs, expiration: expiration, facts: facts, attached: attached)
        let message = try await execute([invocation])
        guard let receipt = message.receipt(for: invocation.cid) else {
            throw StorachaError(.notFound, "response has no receipt for \(capability.can) invocation \(invocation.cid)")
        }
        try checkServiceSignature(receipt)
        return receipt
    }

    /// Sends a plain HTTP request through the configured transport.
    func sendHTTP(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await transport.send(request)
    }

    /// The clock used for `exp` and for checking delegations this client issues.
    var clockForValidation: StorachaClock { clock }

    /// Waits before poll `attempt` (injected; tests pass a no-op).
    func waitBeforePoll(_ attempt: Int) async throws {
        try await pollDelay(attempt)
    }

    /// Checks that the service signed `receipt`, when ``StorachaConfiguration/serviceKey`` is set.
    func checkServiceSignature(_ receipt: Receipt) throws {
        guard let key = configuration.serviceKey else { return }
        let issuer = receipt.issuer ?? configuration.serviceDID
        guard issuer == configuration.serviceDID || issuer == key else {
            throw StorachaError(.invalidSignature, "receipt \(receipt.cid) is issued by \(issuer), not the service")
        }
        guard receipt.verifySignature(key: key) else {
            throw StorachaError(.invalidSignature, "receipt \(receipt.cid) signature does not verify with \(key)")
        }
    }

    // MARK: space/blob/*

    /// `space/blob/list`: one page of the blobs in `space`.
    public func listBlobs(
        in space: DID, cursor: String? = nil, size: Int? = nil, proofs: [Delegation]
    ) async throws -> ListPage<BlobListItem> {
        var nb: [String: IPLDValue] = [:]
        if let cursor { nb["cursor"] = .string(cursor) }
        if let size { nb["size"] = .int(size) }
        let receipt = try await invoke(Capability(can: Ability.spaceBlobList, with: space.string, nb: nb), proofs: proofs)
        return try ListPage.parse(try receipt.requireOK(Ability.spaceBlobList), item: BlobListItem.init(parsing:))
    }

    /// `space/blob/remove`: removes the blob from the space's listing; returns the size removed
    /// (0 if it was absent).
    @discardableResult
    public func removeBlob(_ digest: Multihash, from space: DID, proofs: [Delegation]) async throws -> Int {
        let capability = Capability(can: Ability.spaceBlobRemove, with: space.string, nb: ["digest": .bytes(digest.bytes)])
        let receipt = try await invoke(capability, proofs: proofs)
        return try receipt.requireOK(Ability.spaceBlobRemove)["size"]?.integerValue?.intValue ?? 0
    }

    // MARK: upload/*

    /// `upload/add`: registers `root` (with `shards`) in `space`.
    public func addUpload(root: CID, shards: [CID] = [], to space: DID, proofs: [Delegation]) async throws {
        var nb: [String: IPLDValue] = ["root": .link(root)]
        if !shards.isEmpty { nb["shards"] = .list(shards.map(IPLDValue.link)) }
        let receipt = try await invoke(Capability(can: Ability.uploadAdd, with: space.string, nb: nb), proofs: proofs)
        _ = try receipt.requireOK(Ability.uploadAdd)
    }

    /// `upload/list`: one page of uploads in `space`.
    public func listUploads(
        in space: DID, cursor: String? = nil, size: Int? = nil, proofs: [Delegation]
    ) async throws -> ListPage<UploadListItem> {
        var nb: [String: IPLDValue] = [:]
        if let cursor { nb["cursor"] = .string(cursor) }
        if let size { nb["size"] = .int(size) }
        let receipt = try await invoke(Capability(can: Ability.uploadList, with: space.string, nb: nb), proofs: proofs)
        return try ListPage.parse(try receipt.requireOK(Ability.uploadList), item: UploadListItem.init(parsing:))
    }

    /// `upload/remove`: removes `root` from `space`'s uploads.
    public func removeUpload(root: CID, from space: DID, proofs: [Delegation]) async throws {
        let capability = Capability(can: Ability.uploadRemove, with: space.string, nb: ["root": .link(root)])
        _ = try await invoke(capability, proofs: proofs).requireOK(Ability.uploadRemove)
    }

    // MARK: access/delegate

    /// `access/delegate`: stores `delegations` with the service so their audiences can claim
    /// them (`nb.delegations = {"<cid>": CID}`, blocks travel as proofs; access-client
    /// `access.js`). `resource` is the space (or account) the invocation is on.
    public func storeDelegations(_ delegations: [Delegation], on resource: DID, proofs: [Delegation]) async throws {
        let links = Dictionary(uniqueKeysWithValues: delegations.map { ($0.cid.description, IPLDValue.link($0.cid)) })
        let capability = Capability(can: Ability.accessDelegate, with: resource.string, nb: ["delegations": .map(links)])
        _ = try await invoke(capability, proofs: proofs + delegations).requireOK(Ability.accessDelegate)
    }

    // MARK: Retrieval

    /// Fetches one block by CID from the gateway (`GET /ipfs/<cid>?format=raw`, trustless) and
    /// checks that the bytes hash to the CID.
    public func fetchBlock(_ cid: CID) async throws -> [UInt8] {
        guard var components = URLComponents(url: configuration.gatewayURL, resolvingAgainstBaseURL: false) else {
            throw StorachaError(.malformedInput, "bad gateway URL \(configuration.gatewayURL)")
        }
        let base = components.path.trimmingSuffix("/")
        components.path = base + "/ipfs/" + cid.description
        components.queryItems = [URLQueryItem(name: "format", value: "raw")]
        guard let url = components.url else { throw StorachaError(.malformedInput, "bad gateway URL") }
        let response = try await transport.send(HTTPRequest(method: "GET", url: url, headers: [("Accept", Self.rawContentType)]))
        guard response.status == 200 else {
            if response.status == 404 { throw StorachaError(.notFound, "gateway has no block \(cid)") }
            throw StorachaError(.httpFailure, "gateway answered HTTP \(response.status) for \(cid)")
        }
        guard cid.multihash.matches(response.body) else {
            throw StorachaError(.hashMismatch, "gateway bytes for \(cid) do not match its hash")
        }
        return response.body
    }

    /// Fetches a blob by its multihash (as a raw-codec CID) and verifies it.
    public func fetchBlob(_ digest: Multihash) async throws -> [UInt8] {
        try await fetchBlock(CID.v1(codec: .raw, multihash: digest))
    }

    /// Reads the service's did:key from `GET <serviceURL>/.well-known/did.json`
    /// (`verificationMethod[0].publicKeyMultibase`; w3infra `upload-api-stack.js`).
    public func resolveServiceKey() async throws -> DID {
        let url = configuration.serviceURL.appendingPathComponent(".well-known").appendingPathComponent("did.json")
        let response = try await transport.send(HTTPRequest(method: "GET", url: url))
        guard response.status == 200 else {
            throw StorachaError(.httpFailure, "did.json answered HTTP \(response.status)")
        }
        guard let document = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              document["id"] as? String == configuration.serviceDID.string,
              let methods = document["verificationMethod"] as? [[String: Any]],
              let multibase = methods.first?["publicKeyMultibase"] as? String
        else {
            throw StorachaError(.malformedInput, "did.json does not describe \(configuration.serviceDID) with a key")
        }
        return try DID(parsing: "did:key:" + multibase)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
