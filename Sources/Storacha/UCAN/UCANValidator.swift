import IPLD
import Multiformats

/// Checks UCANs, delegation chains and invocations the way ucanto's validator does
/// (ucanto `packages/validator/src/lib.js`; ucan 0.9.1 §6 "Validation").
///
/// - Signatures: every UCAN in the chain verifies against its issuer's key (a did:key, or the
///   key ``knownKeys`` maps a did:web to).
/// - Time: `exp` > now and `nbf` ≤ now for every UCAN (dag-ucan `isExpired`/`isTooEarly`).
/// - Audience linking: each proof's `aud` is the issuer of the UCAN that cites it.
/// - Attenuation: at every link some capability covers the claimed one — `can` equal, `*`, or a
///   `prefix/*` wildcard; `with` equal or `ucan:*`; every caveat of the proof present and equal
///   in the claim.
/// - Principal alignment: the chain ends at a UCAN whose issuer is the resource itself (the
///   space did:key is the root authority).
public struct UCANValidator: Sendable {
    /// The clock for `exp`/`nbf`.
    public var clock: StorachaClock
    /// Keys of non-key principals (a service's did:web → its did:key).
    public var knownKeys: [DID: DID]

    /// Creates a validator.
    public init(clock: StorachaClock = .system, knownKeys: [DID: DID] = [:]) {
        self.clock = clock
        self.knownKeys = knownKeys
    }

    /// The did:key that signs for `did`.
    public func key(for did: DID) -> DID? {
        did.isKey ? did : knownKeys[did]
    }

    /// Checks one UCAN's signature and time bounds.
    public func verify(_ ucan: UCAN, cid: CID) throws {
        guard let key = key(for: ucan.issuer) else {
            throw StorachaError(.unsupported, "no key known for issuer \(ucan.issuer) of \(cid)")
        }
        guard ucan.verifySignature(key: key) else {
            throw StorachaError(.invalidSignature, "signature of \(cid) by \(ucan.issuer) does not verify")
        }
        let now = clock.now()
        if ucan.isExpired(at: now) {
            throw StorachaError(.expired, "UCAN \(cid) expired at \(ucan.expiration ?? 0) (now \(now))")
        }
        if ucan.isTooEarly(at: now) {
            throw StorachaError(.notYetValid, "UCAN \(cid) is not valid before \(ucan.notBefore ?? 0) (now \(now))")
        }
    }

    /// Validates an invocation addressed to `audience` and returns its (first) capability,
    /// proven through its chain.
    public func validateInvocation(_ invocation: Delegation, audience: DID) throws -> Capability {
        guard invocation.ucan.audience == audience else {
            throw StorachaError(.wrongAudience, "invocation \(invocation.cid) is addressed to \(invocation.ucan.audience), not \(audience)")
        }
        try verify(invocation.ucan, cid: invocation.cid)
        guard let capability = invocation.ucan.capabilities.first else {
            throw StorachaError(.malformedInput, "invocation \(invocation.cid) has no capability")
        }
        try authorize(capability, in: invocation, depth: 0)
        return capability
    }

    /// Validates a delegation: it verifies, and its issuer holds every capability it grants.
    public func validateDelegation(_ delegation: Delegation) throws {
        try verify(delegation.ucan, cid: delegation.cid)
        for capability in delegation.ucan.capabilities {
            try authorize(capability, in: delegation, depth: 0)
        }
    }

    /// Proves that `delegation`'s issuer may use `capability` (already verified `delegation`).
    public func authorize(_ capability: Capability, in delegation: Delegation, depth: Int) throws {
        let ucan = delegation.ucan
        // The resource is the issuer itself: root authority (ucanto `validator/src/lib.js`
        // "self-issued" capabilities).
        if capability.with == ucan.issuer.string { return }
        guard depth < Delegation.maxProofDepth else {
            throw StorachaError(.limitExceeded, "proof chain deeper than \(Delegation.maxProofDepth)")
        }
        var failures: [StorachaError] = []
        for proofCID in ucan.proofs {
            guard delegation.graph[proofCID] != nil else {
                failures.append(StorachaError(.unauthorized, "proof \(proofCID) is not included"))
                continue
            }
            do {
                let proof = try Delegation(root: proofCID, graph: delegation.graph)
                guard proof.ucan.audience == ucan.issuer else {
                    throw StorachaError(
                        .unauthorized, "proof \(proofCID) is delegated to \(proof.ucan.audience), not to \(ucan.issuer)"
                    )
                }
                try verify(proof.ucan, cid: proofCID)
                guard proof.ucan.capabilities.contains(where: { Self.covers($0, capability) }) else {
                    throw StorachaError(.unauthorized, "proof \(proofCID) does not grant \(capability)")
                }
                try authorize(capability, in: proof, depth: depth + 1)
                return
            } catch let error as StorachaError {
                failures.append(error)
            }
        }
        if let specific = failures.first(where: { $0.code != .unauthorized }) { throw specific }
        let reasons = failures.map(\.message).joined(separator: "; ")
        throw StorachaError(
            .unauthorized,
            "\(ucan.issuer) cannot prove \(capability)" + (reasons.isEmpty ? ": no proofs" : ": \(reasons)")
        )
    }

    /// Whether `granted` covers `claimed` (ability wildcard, resource, caveat subset).
    public static func covers(_ granted: Capability, _ claimed: Capability) -> Bool {
        abilityMatches(granted.can, claimed.can)
            && (granted.with == claimed.with || granted.with == "ucan:*")
            && granted.caveats.allSatisfy { claimed.caveats[$0.key] == $0.value }
    }

    /// `*` matches everything; `space/*` matches `space/blob/add`; otherwise equality.
    public static func abilityMatches(_ pattern: String, _ ability: String) -> Bool {
        if pattern == "*" || pattern == ability { return true }
        if pattern.hasSuffix("/*") { return ability.hasPrefix(pattern.dropLast()) }
        return false
    }
}
