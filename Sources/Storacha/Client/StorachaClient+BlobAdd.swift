import Foundation
import IPLD
import Multiformats

extension StorachaClient {
    /// The largest blob the service accepts (w3infra `upload-api/service.js`: 127 × 2²⁵ bytes).
    public static let maxBlobSize = 127 << 25

    /// `space/blob/add`: stores `bytes` in `space` and waits until the service accepted them.
    ///
    /// The flow (upload-client `src/blob/add.js`, upload-api `src/blob/add.js`):
    /// 1. invoke `space/blob/add {blob: {digest, size}}`; the receipt forks `blob/allocate`,
    ///    `http/put`, `blob/accept` tasks and `ucan/conclude` invocations carrying the receipts
    ///    the service already has;
    /// 2. unless the allocation has no `address` (already stored) or `http/put` already
    ///    succeeded, `PUT address.url` with exactly `address.headers`;
    /// 3. issue the `http/put` receipt signed by the blob-derived key
    ///    (``Signer/derived(fromBlobDigest:)``) and send it in `ucan/conclude`;
    /// 4. take the `blob/accept` receipt from the effects, or poll the receipts endpoint.
    public func addBlob(_ bytes: [UInt8], to space: DID, proofs: [Delegation]) async throws -> BlobAddResult {
        guard bytes.count <= Self.maxBlobSize else {
            throw StorachaError(.limitExceeded, "blob of \(bytes.count) bytes exceeds \(Self.maxBlobSize)")
        }
        let digest = Multihash.sha256(bytes)
        let blob: IPLDValue = .map(["digest": .bytes(digest.bytes), "size": .int(bytes.count)])
        let receipt = try await invoke(
            Capability(can: Ability.spaceBlobAdd, with: space.string, nb: ["blob": blob]), proofs: proofs
        )
        _ = try receipt.requireOK(Ability.spaceBlobAdd)
        let flow = try BlobAddEffects(receipt: receipt)

        let allocation = try flow.allocateReceipt.requireOK(Ability.blobAllocate)
        let putDone = flow.putReceipt?.okValue != nil
        if let address = allocation["address"], !address.isNull, !putDone {
            try await upload(bytes, to: address)
        }
        if !putDone {
            let signer = try Signer.derived(fromBlobDigest: digest)
            guard signer.did == flow.putTask.ucan.issuer else {
                throw StorachaError(.malformedInput, "http/put task is issued by \(flow.putTask.ucan.issuer), not the blob-derived \(signer.did)")
            }
            let putReceipt = try Receipt.issue(issuer: signer, ran: flow.putTask.cid, result: .ok(.map([:])))
            let conclude = try makeConclude(putReceipt)
            let message = try await execute([conclude])
            guard let concluded = message.receipt(for: conclude.cid) else {
                throw StorachaError(.notFound, "no receipt for ucan/conclude of http/put")
            }
            try checkServiceSignature(concluded)
            _ = try concluded.requireOK("\(Ability.ucanConclude) for \(Ability.httpPut)")
        }
        var accept = flow.acceptReceipt
        if accept?.okValue == nil {
            accept = try await pollReceipt(for: flow.acceptTask.cid)
        }
        guard let accept else { throw StorachaError(.notFound, "no blob/accept receipt") }
        let accepted = try accept.requireOK(Ability.blobAccept)
        return BlobAddResult(digest: digest, size: bytes.count, site: accepted["site"]?.linkValue)
    }

    /// The `ucan/conclude` invocation that submits `receipt` (upload-client
    /// `createConcludeInvocation`): `with` = the agent's did:key, `exp` = never,
    /// `fct: [{"0": CID, …}]` listing the receipt's blocks, which are attached.
    public func makeConclude(_ receipt: Receipt) throws -> Delegation {
        let blocks = receipt.exportedBlocks
        var fact: [String: IPLDValue] = [:]
        for (index, block) in blocks.enumerated() { fact[String(index)] = .link(block.cid) }
        return try makeInvocation(
            Capability(can: Ability.ucanConclude, with: agent.keyDID.string, nb: ["receipt": .link(receipt.cid)]),
            expiration: .some(nil), facts: [.map(fact)], attached: blocks
        )
    }

    /// PUTs the blob to the allocated address with exactly the given headers.
    private func upload(_ bytes: [UInt8], to address: IPLDValue) async throws {
        guard let text = address["url"]?.stringValue, let url = URL(string: text) else {
            throw StorachaError(.malformedInput, "allocation address has no URL")
        }
        var headers: [(name: String, value: String)] = []
        for (name, value) in address["headers"]?.mapValue ?? [:] {
            guard let value = value.stringValue else { throw StorachaError(.malformedInput, "allocation header \(name) is not text") }
            headers.append((name, value))
        }
        headers.sort { $0.name < $1.name }
        let response = try await sendHTTP(HTTPRequest(method: "PUT", url: url, headers: headers, body: bytes))
        guard (200..<300).contains(response.status) else {
            throw StorachaError(.httpFailure, "blob upload to \(url) answered HTTP \(response.status)")
        }
    }

    /// Polls `GET <receipts>/<task>` until a receipt arrives (404 means "not yet";
    /// upload-client `receipts.js poll`). A hit is an agent-message CAR (often behind a 302).
    public func pollReceipt(for task: CID) async throws -> Receipt {
        let url = configuration.receiptsURL.appendingPathComponent(task.description)
        for attempt in 0..<max(1, configuration.receiptPollAttempts) {
            if attempt > 0 { try await waitBeforePoll(attempt) }
            let response = try await sendHTTP(HTTPRequest(method: "GET", url: url, headers: [("Accept", Self.carContentType)]))
            if response.status == 404 { continue }
            guard response.status == 200 else {
                throw StorachaError(.httpFailure, "receipts endpoint answered HTTP \(response.status) for \(task)")
            }
            let message = try AgentMessage(car: response.body)
            guard let receipt = message.receipt(for: task) else {
                throw StorachaError(.notFound, "receipt message for \(task) does not contain its receipt")
            }
            try checkServiceSignature(receipt)
            return receipt
        }
        throw StorachaError(.timeout, "no receipt for \(task) after \(configuration.receiptPollAttempts) attempts")
    }
}

/// The tasks and receipts a `space/blob/add` receipt forks (upload-client `add.js
/// parseBlobAddReceiptNext`).
struct BlobAddEffects {
    let allocateTask: Delegation
    let putTask: Delegation
    let acceptTask: Delegation
    let allocateReceipt: Receipt
    let putReceipt: Receipt?
    let acceptReceipt: Receipt?

    init(receipt: Receipt) throws {
        let forks = receipt.fork.compactMap { try? Delegation(root: $0, graph: receipt.graph) }
        func task(_ names: [String]) -> Delegation? {
            for name in names {
                if let task = forks.first(where: { $0.ucan.capabilities.first?.can == name }) { return task }
            }
            return nil
        }
        guard let allocate = task([Ability.blobAllocate, Ability.legacyBlobAllocate]),
              let put = task([Ability.httpPut]),
              let accept = task([Ability.blobAccept, Ability.legacyBlobAccept])
        else {
            throw StorachaError(.malformedInput, "space/blob/add receipt lacks the allocate, put or accept effect")
        }
        let concluded: [Receipt] = forks.filter { $0.ucan.capabilities.first?.can == Ability.ucanConclude }.compactMap {
            guard let link = $0.ucan.capabilities.first?.caveats["receipt"]?.linkValue else { return nil }
            return try? Receipt(root: link, graph: receipt.graph)
        }
        guard let allocateReceipt = concluded.first(where: { $0.ran == allocate.cid }) else {
            throw StorachaError(.malformedInput, "space/blob/add receipt lacks the blob/allocate receipt")
        }
        allocateTask = allocate
        putTask = put
        acceptTask = accept
        self.allocateReceipt = allocateReceipt
        putReceipt = concluded.first { $0.ran == put.cid }
        acceptReceipt = concluded.first { $0.ran == accept.cid }
    }
}
