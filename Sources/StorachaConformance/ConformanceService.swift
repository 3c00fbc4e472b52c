import Crypto
import Foundation
import IPLD
import Multiformats
import Storacha
import Synchronization

/// The service side of the Storacha capabilities this project uses, as the published protocol
/// defines them (upload-service `packages/upload-api`, ucanto `packages/server`): it validates
/// every invocation as strictly as the hosted service (signatures, proof chains, audience =
/// the service DID, expiry) and answers with receipts signed by its did:key, `iss` = its DID.
///
/// HTTP routes (see ``handle(method:path:headers:body:)``): `POST /` agent messages,
/// `PUT /blob/<cid>` allocated uploads, `GET /receipt/<task>` (302 to `/message/<task>`),
/// `GET /.well-known/did.json`, `GET /ipfs/<cid>?format=raw` (trustless gateway).
public final class ConformanceService: Sendable {
    /// The largest request body accepted.
    public static let maxRequestBodyLength = 64 << 20
    /// Default page size of `space/blob/list` and `upload/list` (upload-api default).
    public static let defaultPageSize = 20
    /// Largest page size honoured.
    public static let maxPageSize = 1000

    /// The service's signer (its did:key key, signing as ``did``).
    public let signer: Signer
    /// The service DID (a did:web), the required audience of invocations.
    public var did: DID { signer.did }
    private let validator: UCANValidator
    private let clock: StorachaClock
    private let state = Mutex(ConformanceState())
    /// TEST HOOK (see ``setObserver(_:)``): not part of the Storacha protocol.
    private let observer = Mutex<(@Sendable (ObservedRequest) -> Void)?>(nil)

    /// A service whose key is `key` and whose DID is `did` (e.g. `did:web:localhost`).
    public init(key: Signer, did: DID, clock: StorachaClock = .system) {
        signer = key.withDID(did)
        self.clock = clock
        validator = UCANValidator(clock: clock, knownKeys: [did: key.keyDID])
    }

    /// Marks `space` as provisioned; writes to other spaces fail with `InsufficientStorage`
    /// (upload-api `space-allocate.js`).
    public func provision(_ space: DID) {
        state.withLock { _ = $0.provisioned.insert(space) }
    }

    /// The `writesDisabled` kill switch (upload-api `disable-writes.js`): writes answer
    /// `ServiceUnavailable`.
    public func setWritesDisabled(_ disabled: Bool) {
        state.withLock { $0.writesDisabled = disabled }
    }

    /// Delegations stored through `access/delegate`.
    public var storedDelegations: [Delegation] {
        state.withLock { Array($0.delegations.values) }
    }

    /// Whether blob bytes for `digest` are stored.
    public func hasBlob(_ digest: Multihash) -> Bool {
        state.withLock { $0.blobs[digest] != nil }
    }

    // MARK: Test hook

    /// TEST HOOK, not part of the protocol: one HTTP request exactly as the service received
    /// it, with the invocations of an agent message decoded (proof chains included), so tests
    /// can check what a storage provider learns.
    public struct ObservedRequest: Sendable {
        /// `GET`, `POST`, `PUT`, …
        public var method: String
        /// The request target (path and query).
        public var path: String
        /// The header fields in order.
        public var headers: [(name: String, value: String)]
        /// The body bytes.
        public var body: [UInt8]
        /// For `POST /`: the invocations of the agent message (empty when it does not decode).
        public var invocations: [Delegation]
    }

    /// TEST HOOK, not part of the protocol: `observer` is called with every request before it is
    /// handled (`nil` stops observing).
    public func setObserver(_ observer: (@Sendable (ObservedRequest) -> Void)?) {
        self.observer.withLock { $0 = observer }
    }

    func setBaseURL(_ url: URL) {
        state.withLock { $0.baseURL = url }
    }

    // MARK: HTTP

    /// Answers one HTTP request.
    public func handle(method: String, path rawPath: String, headers: [(name: String, value: String)], body: [UInt8]) -> HTTPResponse {
        if let observe = observer.withLock({ $0 }) {  // TEST HOOK
            let invocations = method == "POST" ? (try? AgentMessage(car: body).invocations) ?? [] : []
            observe(ObservedRequest(method: method, path: rawPath, headers: headers, body: body, invocations: invocations))
        }
        let (path, query) = Self.split(rawPath)
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        switch (method, path) {
        case ("POST", "/"):
            guard header("content-type")?.lowercased().hasPrefix(StorachaClient.carContentType) == true else {
                return HTTPResponse(status: 415, body: Array("expected content-type \(StorachaClient.carContentType)".utf8))
            }
            if let accept = header("accept"), !accept.contains(StorachaClient.carContentType), !accept.contains("*/*") {
                return HTTPResponse(status: 406, body: Array("can only answer \(StorachaClient.carContentType)".utf8))
            }
            let request: AgentMessage
            do {
                request = try AgentMessage(car: body)
            } catch {
                return HTTPResponse(status: 400, body: Array("cannot decode agent message: \(error)".utf8))
            }
            do {
                let receipts = try request.invocations.map(execute)
                let car = try AgentMessage(receipts: receipts).car()
                return HTTPResponse(status: 200, headers: [("Content-Type", StorachaClient.carContentType)], body: car)
            } catch {
                return HTTPResponse(status: 500, body: Array("\(error)".utf8))
            }
        case ("GET", "/.well-known/did.json"):
            return didDocument()
        case ("PUT", _) where path.hasPrefix("/blob/"):
            return acceptUpload(String(path.dropFirst("/blob/".count)), headers: header, body: body)
        case ("GET", _) where path.hasPrefix("/receipt/"):
            let text = String(path.dropFirst("/receipt/".count))
            guard let task = CID(text), state.withLock({ $0.receipts[task] != nil }) else {
                return HTTPResponse(status: 404)
            }
            return HTTPResponse(status: 302, headers: [("Location", "/message/\(task)")])
        case ("GET", _) where path.hasPrefix("/message/"):
            guard let task = CID(String(path.dropFirst("/message/".count))),
                  let receipt = state.withLock({ $0.receipts[task] }),
                  let car = try? AgentMessage(receipts: [receipt]).car()
            else { return HTTPResponse(status: 404) }
            return HTTPResponse(status: 200, headers: [("Content-Type", StorachaClient.carContentType)], body: car)
        case ("GET", _) where path.hasPrefix("/ipfs/"):
            return gateway(String(path.dropFirst("/ipfs/".count)), query: query, accept: header("accept"))
        default:
            return HTTPResponse(status: 404)
        }
    }

    private static func split(_ raw: String) -> (path: String, query: String?) {
        guard let mark = raw.firstIndex(of: "?") else { return (raw, nil) }
        return (String(raw[..<mark]), String(raw[raw.index(after: mark)...]))
    }

    private func didDocument() -> HTTPResponse {
        let key = String(signer.keyDID.string.dropFirst("did:key:".count))
        let document: [String: Any] = [
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
            "id": did.string,
            "verificationMethod": [[
                "id": "\(did.string)#owner", "type": "Ed25519VerificationKey2020",
                "controller": did.string, "publicKeyMultibase": key,
            ]],
            "assertionMethod": ["\(did.string)#owner"],
            "authentication": ["\(did.string)#owner"],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    /// `PUT /blob/<raw CID>`: the presigned-URL upload; checks the allocation, the
    /// `x-amz-checksum-sha256` header and the bytes' hash (w3infra `stores/blobs.js`).
    private func acceptUpload(_ text: String, headers header: (String) -> String?, body: [UInt8]) -> HTTPResponse {
        guard let cid = CID(text) else { return HTTPResponse(status: 400) }
        let digest = cid.multihash
        guard let size = state.withLock({ $0.allocations[digest] }) else { return HTTPResponse(status: 403) }
        guard body.count == size, digest.matches(body) else { return HTTPResponse(status: 400, body: Array("bad content".utf8)) }
        let checksum = Multibase.base64pad.encodeWithoutPrefix(digest.digest)
        guard header("x-amz-checksum-sha256") == checksum else {
            return HTTPResponse(status: 400, body: Array("checksum header mismatch".utf8))
        }
        state.withLock {
            $0.blobs[digest] = body
            $0.allocations[digest] = nil
        }
        return HTTPResponse(status: 200)
    }

    /// `GET /ipfs/<cid>?format=raw`: one block, by the CID's multihash (freeway
    /// `withFormatRawHandler.js`).
    private func gateway(_ text: String, query: String?, accept: String?) -> HTTPResponse {
        let wantsRaw = query?.split(separator: "&").contains("format=raw") == true || accept?.contains(StorachaClient.rawContentType) == true
        guard wantsRaw else { return HTTPResponse(status: 406, body: Array("only format=raw is served".utf8)) }
        guard let cid = CID(text) else { return HTTPResponse(status: 400) }
        guard let bytes = state.withLock({ $0.blobs[cid.multihash] }) else { return HTTPResponse(status: 404) }
        return HTTPResponse(status: 200, headers: [("Content-Type", StorachaClient.rawContentType)], body: bytes)
    }

    // MARK: Invocations

    /// Validates and runs one invocation; every outcome, including a validation failure, is a
    /// signed receipt (ucanto `server.js execute`).
    func execute(_ invocation: Delegation) throws -> Receipt {
        let capability: Capability
        do {
            capability = try validator.validateInvocation(invocation, audience: did)
        } catch let error as StorachaError {
            return try issue(invocation, .failure(name: Self.errorName(error), message: error.message))
        }
        let writes: Set<String> = [Ability.spaceBlobAdd, Ability.spaceBlobRemove, Ability.uploadAdd, Ability.uploadRemove]
        if writes.contains(capability.can), state.withLock({ $0.writesDisabled }) {
            return try issue(invocation, .failure(name: "ServiceUnavailable", message: "writes are disabled"))
        }
        do {
            switch capability.can {
            case Ability.spaceBlobAdd: return try blobAdd(invocation, capability)
            case Ability.ucanConclude: return try conclude(invocation, capability)
            case Ability.spaceBlobList: return try issue(invocation, .ok(try blobList(capability)))
            case Ability.spaceBlobRemove: return try issue(invocation, .ok(try blobRemove(capability)))
            case Ability.uploadAdd: return try issue(invocation, .ok(try uploadAdd(invocation, capability)))
            case Ability.uploadList: return try issue(invocation, .ok(try uploadList(capability)))
            case Ability.uploadRemove: return try issue(invocation, .ok(try uploadRemove(capability)))
            case Ability.accessDelegate: return try issue(invocation, .ok(try accessDelegate(invocation, capability)))
            default:
                return try issue(invocation, .failure(name: "HandlerNotFound", message: "service does not implement {can: \"\(capability.can)\"}"))
            }
        } catch let failure as ServiceFailure {
            return try issue(invocation, .failure(name: failure.name, message: failure.message))
        } catch let error as StorachaError {
            return try issue(invocation, .failure(name: "MalformedCapability", message: error.message))
        }
    }

    private static func errorName(_ error: StorachaError) -> String {
        switch error.code {
        case .invalidSignature: "InvalidSignature"
        case .expired: "Expired"
        case .notYetValid: "NotValidBefore"
        case .wrongAudience: "InvalidAudience"
        default: "Unauthorized"
        }
    }

    private func issue(
        _ invocation: Delegation, _ result: Receipt.Outcome, fork: [Delegation] = []
    ) throws -> Receipt {
        try Receipt.issue(issuer: signer, ran: invocation.cid, invocation: invocation, result: result, fork: fork)
    }

    private func serviceTask(_ capability: Capability) throws -> Delegation {
        try Delegation.issue(issuer: signer, audience: did, capabilities: [capability], expiration: nil)
    }

    private func conclusion(of receipt: Receipt, by issuer: Signer) throws -> Delegation {
        let blocks = receipt.exportedBlocks
        var fact: [String: IPLDValue] = [:]
        for (index, block) in blocks.enumerated() { fact[String(index)] = .link(block.cid) }
        return try Delegation.issue(
            issuer: issuer, audience: did,
            capabilities: [Capability(can: Ability.ucanConclude, with: issuer.keyDID.string, nb: ["receipt": .link(receipt.cid)])],
            expiration: nil, facts: [.map(fact)], attached: blocks
        )
    }

    private func requireSpace(_ capability: Capability) throws -> DID {
        guard let space = try? DID(parsing: capability.with), space.isKey else {
            throw ServiceFailure(name: "MalformedCapability", message: "with must be a space did:key, got \(capability.with)")
        }
        return space
    }

    /// `space/blob/add` (upload-api `blob/add.js`): allocate, describe the put, and accept at
    /// once if the bytes are already stored.
    private func blobAdd(_ invocation: Delegation, _ capability: Capability) throws -> Receipt {
        let space = try requireSpace(capability)
        guard let blob = capability.caveats["blob"], let digestBytes = blob["digest"]?.bytesValue,
              let size = blob["size"]?.integerValue?.intValue, size >= 0
        else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.blob must be {digest: bytes, size: int}")
        }
        guard let digest = try? Multihash(bytes: digestBytes), digest.code == .sha2_256 else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.blob.digest must be a sha2-256 multihash")
        }
        guard size <= StorachaClient.maxBlobSize else {
            throw ServiceFailure(name: "BlobSizeOutsideOfSupportedRange", message: "Blob of \(size) bytes, exceeds size limit of \(StorachaClient.maxBlobSize) bytes")
        }
        guard state.withLock({ $0.provisioned.contains(space) }) else {
            throw ServiceFailure(name: "InsufficientStorage", message: "\(space) has no storage provider")
        }
        let blobValue: IPLDValue = .map(["digest": .bytes(digest.bytes), "size": .int(size)])
        let (baseURL, stored) = state.withLock { ($0.baseURL, $0.blobs[digest] != nil) }
        guard let baseURL else { throw ServiceFailure(name: "ServiceUnavailable", message: "server not started") }

        let allocateTask = try serviceTask(Capability(
            can: Ability.blobAllocate, with: did.string,
            nb: ["blob": blobValue, "space": .bytes(space.principalBytes), "cause": .link(invocation.cid)]
        ))
        var allocation: [String: IPLDValue] = ["size": .int(stored ? 0 : size)]
        if !stored {
            let url = baseURL.appendingPathComponent("blob").appendingPathComponent(CID.v1(codec: .raw, multihash: digest).description)
            allocation["address"] = .map([
                "url": .string(url.absoluteString),
                "headers": .map([
                    "content-length": .string(String(size)),
                    "x-amz-checksum-sha256": .string(Multibase.base64pad.encodeWithoutPrefix(digest.digest)),
                ]),
                "expires": .int(Int(clock.now()) + 86_400),
            ])
            state.withLock { $0.allocations[digest] = size }
        }
        let allocateReceipt = try Receipt.issue(issuer: signer, ran: allocateTask.cid, invocation: allocateTask, result: .ok(.map(allocation)))

        let provider = try Signer.derived(fromBlobDigest: digest)
        let putTask = try Delegation.issue(
            issuer: provider, audience: provider.did,
            capabilities: [Capability(can: Ability.httpPut, with: provider.did.string, nb: [
                "body": blobValue,
                "url": Await(selector: ".out.ok.address.url", task: allocateTask.cid).dataModel,
                "headers": Await(selector: ".out.ok.address.headers", task: allocateTask.cid).dataModel,
            ])],
            expiration: nil, facts: [.map(["keys": provider.archiveValue])]
        )
        let acceptTask = try serviceTask(Capability(
            can: Ability.blobAccept, with: did.string,
            nb: ["blob": blobValue, "space": .bytes(space.principalBytes), "_put": Await(selector: ".out.ok", task: putTask.cid).dataModel]
        ))
        var concludes = [try conclusion(of: allocateReceipt, by: signer)]
        let pending = ConformanceState.PendingAccept(
            putTask: putTask, acceptTask: acceptTask, space: space, digest: digest, size: size, cause: invocation.cid
        )
        state.withLock {
            $0.receipts[allocateTask.cid] = allocateReceipt
            $0.pending[putTask.cid] = pending
        }
        if stored {
            let putReceipt = try Receipt.issue(issuer: provider, ran: putTask.cid, result: .ok(.map([:])))
            let acceptReceipt = try accept(pending, putReceipt: putReceipt)
            concludes.append(try conclusion(of: putReceipt, by: provider))
            concludes.append(try conclusion(of: acceptReceipt, by: signer))
        }
        let site = Await(selector: ".out.ok.site", task: acceptTask.cid).dataModel
        return try issue(invocation, .ok(.map(["site": site])), fork: [allocateTask, putTask, acceptTask] + concludes)
    }

    /// `ucan/conclude` (upload-api `ucan/conclude.js`): a receipt for an `http/put` task
    /// triggers `blob/accept`.
    private func conclude(_ invocation: Delegation, _ capability: Capability) throws -> Receipt {
        guard let link = capability.caveats["receipt"]?.linkValue else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.receipt must be a link")
        }
        let receipt: Receipt
        do {
            receipt = try Receipt(root: link, graph: invocation.graph)
        } catch {
            throw ServiceFailure(name: "ReceiptNotFound", message: "receipt \(link) is not attached")
        }
        guard let pending = state.withLock({ $0.pending[receipt.ran] }) else {
            // Receipts for tasks we do not track are stored and acknowledged.
            state.withLock { $0.receipts[receipt.ran] = receipt }
            return try issue(invocation, .ok(.map([:])))
        }
        let putIssuer = pending.putTask.ucan.issuer
        guard receipt.issuer == putIssuer, receipt.verifySignature(key: putIssuer) else {
            throw ServiceFailure(name: "InvalidSignature", message: "http/put receipt is not signed by the blob-derived key \(putIssuer)")
        }
        guard receipt.okValue != nil else {
            throw ServiceFailure(name: "AwaitError", message: "http/put failed")
        }
        let acceptReceipt = try accept(pending, putReceipt: receipt)
        if case .error(let value) = acceptReceipt.out {
            throw ServiceFailure(name: value["name"]?.stringValue ?? "Error", message: value["message"]?.stringValue ?? "blob/accept failed")
        }
        return try issue(invocation, .ok(.map([:])))
    }

    /// Runs `blob/accept`: the bytes must be stored; issues the location commitment
    /// (`assert/location`) and registers the blob in the space.
    private func accept(_ pending: ConformanceState.PendingAccept, putReceipt: Receipt) throws -> Receipt {
        let stored = state.withLock { $0.blobs[pending.digest] }
        let result: Receipt.Outcome
        var fork: [Delegation] = []
        if let stored, pending.digest.matches(stored) {
            let url = state.withLock { $0.baseURL }?.appendingPathComponent("ipfs")
                .appendingPathComponent(CID.v1(codec: .raw, multihash: pending.digest).description)
            let location = try Delegation.issue(
                issuer: signer, audience: pending.space,
                capabilities: [Capability(can: Ability.assertLocation, with: did.string, nb: [
                    "space": .bytes(pending.space.principalBytes),
                    "content": .map(["digest": .bytes(pending.digest.bytes)]),
                    "location": .list([.string(url?.absoluteString ?? "")]),
                ])],
                expiration: nil
            )
            fork = [location]
            result = .ok(.map(["site": .link(location.cid)]))
        } else {
            result = .failure(name: "AllocatedMemoryHadNotBeenWrittenTo", message: "Blob not found")
        }
        let receipt = try Receipt.issue(
            issuer: signer, ran: pending.acceptTask.cid, invocation: pending.acceptTask, result: result, fork: fork
        )
        let now = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(clock.now())))
        state.withLock {
            $0.receipts[pending.putTask.cid] = putReceipt
            $0.receipts[pending.acceptTask.cid] = receipt
            guard receipt.okValue != nil else { return }
            $0.pending[pending.putTask.cid] = nil
            var entries = $0.spaces[pending.space, default: []]
            if !entries.contains(where: { $0.digest == pending.digest }) {
                entries.append(.init(digest: pending.digest, size: pending.size, cause: pending.cause, insertedAt: now))
            }
            $0.spaces[pending.space] = entries
        }
        return receipt
    }

    private func page<T>(_ items: [T], _ capability: Capability, render: (T) -> IPLDValue) -> IPLDValue {
        let size = min(capability.caveats["size"]?.integerValue?.intValue ?? Self.defaultPageSize, Self.maxPageSize)
        let start = capability.caveats["cursor"]?.stringValue.flatMap(Int.init) ?? 0
        let slice = items.dropFirst(max(0, start)).prefix(max(1, size))
        var result: [String: IPLDValue] = ["size": .int(slice.count), "results": .list(slice.map(render))]
        let end = max(0, start) + slice.count
        if end < items.count {
            result["cursor"] = .string(String(end))
            result["after"] = .string(String(end))
        }
        if start > 0 { result["before"] = .string(String(start)) }
        return .map(result)
    }

    /// `space/blob/list` (upload-api `blob/list.js`).
    private func blobList(_ capability: Capability) throws -> IPLDValue {
        let space = try requireSpace(capability)
        let entries = state.withLock { $0.spaces[space] ?? [] }
        return page(entries, capability) { entry in
            .map([
                "blob": .map(["digest": .bytes(entry.digest.bytes), "size": .int(entry.size)]),
                "cause": .link(entry.cause), "insertedAt": .string(entry.insertedAt),
            ])
        }
    }

    /// `space/blob/remove` (upload-api `blob/remove.js`): `{size}`, 0 when absent.
    private func blobRemove(_ capability: Capability) throws -> IPLDValue {
        let space = try requireSpace(capability)
        guard let bytes = capability.caveats["digest"]?.bytesValue, let digest = try? Multihash(bytes: bytes) else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.digest must be a multihash")
        }
        let size = state.withLock { state -> Int in
            guard var entries = state.spaces[space], let index = entries.firstIndex(where: { $0.digest == digest }) else { return 0 }
            let size = entries.remove(at: index).size
            state.spaces[space] = entries
            return size
        }
        return .map(["size": .int(size)])
    }

    /// `upload/add` (upload-api `upload/add.js`).
    private func uploadAdd(_ invocation: Delegation, _ capability: Capability) throws -> IPLDValue {
        let space = try requireSpace(capability)
        guard let root = capability.caveats["root"]?.linkValue else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.root must be a link")
        }
        guard state.withLock({ $0.provisioned.contains(space) }) else {
            throw ServiceFailure(name: "InsufficientStorage", message: "\(space) has no storage provider")
        }
        let shards = capability.caveats["shards"]?.listValue?.compactMap(\.linkValue) ?? []
        let now = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(clock.now())))
        state.withLock {
            var entries = $0.uploads[space, default: []]
            if let index = entries.firstIndex(where: { $0.root == root }) {
                entries[index].shards = Array(Set(entries[index].shards + shards)).sorted { $0.description < $1.description }
                entries[index].updatedAt = now
            } else {
                entries.append(.init(root: root, shards: shards, insertedAt: now, updatedAt: now))
            }
            $0.uploads[space] = entries
        }
        var result: [String: IPLDValue] = ["root": .link(root)]
        if !shards.isEmpty { result["shards"] = .list(shards.map(IPLDValue.link)) }
        return .map(result)
    }

    /// `upload/list` (shards left out, as since upload-service #680).
    private func uploadList(_ capability: Capability) throws -> IPLDValue {
        let space = try requireSpace(capability)
        let entries = state.withLock { $0.uploads[space] ?? [] }
        return page(entries, capability) { entry in
            .map(["root": .link(entry.root), "insertedAt": .string(entry.insertedAt), "updatedAt": .string(entry.updatedAt)])
        }
    }

    /// `upload/remove`.
    private func uploadRemove(_ capability: Capability) throws -> IPLDValue {
        let space = try requireSpace(capability)
        guard let root = capability.caveats["root"]?.linkValue else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.root must be a link")
        }
        state.withLock { $0.uploads[space]?.removeAll { $0.root == root } }
        return .map(["root": .link(root)])
    }

    /// `access/delegate` (upload-api `access/delegate.js`): every linked delegation must be
    /// in the message; each is stored.
    private func accessDelegate(_ invocation: Delegation, _ capability: Capability) throws -> IPLDValue {
        guard let links = capability.caveats["delegations"]?.mapValue else {
            throw ServiceFailure(name: "MalformedCapability", message: "nb.delegations must be a map")
        }
        var found: [Delegation] = []
        for (_, value) in links {
            guard let cid = value.linkValue, let delegation = try? Delegation(root: cid, graph: invocation.graph) else {
                throw ServiceFailure(name: "DelegationNotFound", message: "delegation \(value) is not included")
            }
            found.append(delegation)
        }
        state.withLock { for delegation in found { $0.delegations[delegation.cid] = delegation } }
        return .map([:])
    }
}

/// A handler failure that becomes an error receipt `{name, message}`.
struct ServiceFailure: Error {
    var name: String
    var message: String
}
