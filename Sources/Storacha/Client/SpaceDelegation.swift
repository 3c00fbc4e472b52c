import IPLD

extension Delegation {
    /// Delegates `abilities` on `space` to `audience` (ucanto `delegate`), signed by `issuer`.
    ///
    /// `issuer` is either the space key itself (root authority) or an agent holding the
    /// abilities through `proofs`, whose blocks travel along so the result is a complete chain
    /// back to the space. The chain is checked with `validator` before it is returned, so a
    /// re-delegation the issuer cannot back fails here rather than at the service.
    public static func delegate(
        abilities: [String], on space: DID, to audience: DID, issuer: Signer, expiration: Int64?,
        notBefore: Int64? = nil, proofs: [Delegation] = [], validator: UCANValidator = UCANValidator()
    ) throws -> Delegation {
        guard !abilities.isEmpty else { throw StorachaError(.malformedInput, "no abilities to delegate") }
        let delegation = try Delegation.issue(
            issuer: issuer, audience: audience,
            capabilities: abilities.map { Capability(can: $0, with: space.string) },
            expiration: expiration, notBefore: notBefore, proofs: proofs
        )
        try validator.validateDelegation(delegation)
        return delegation
    }
}

extension StorachaClient {
    /// Delegates `abilities` on `space` from this client's agent to `audience` with `proofs`
    /// (the agent's own delegation for the space, unless the agent is the space).
    ///
    /// For a contact's deposit rights pass ``Ability/depositAbilities`` and a finite
    /// `expiration`: not re-issuing after expiry is how a contact is revoked.
    public func delegate(
        abilities: [String], on space: DID, to audience: DID, expiration: Int64?, proofs: [Delegation] = []
    ) throws -> Delegation {
        try Delegation.delegate(
            abilities: abilities, on: space, to: audience, issuer: agent, expiration: expiration, proofs: proofs,
            validator: UCANValidator(clock: clockForValidation)
        )
    }
}
