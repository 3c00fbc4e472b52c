import Foundation
import IPLD
import LibP2P
import Multiformats
import Storacha
import Testing

@Suite("UCAN 0.9.1 and delegation chains")
struct UCANTests {
    let clock = TestClock()
    let service = try! DID.web("localhost")

    @Test("DIDs: did:key from our libp2p identity, principal bytes, did:web")
    func dids() throws {
        let identity = IdentityKeyPair.generate()
        let signer = try Signer(identity: identity)
        #expect(signer.did.ed25519PublicKey == identity.publicKey.data)
        #expect(signer.did.string.hasPrefix("did:key:z6Mk"))
        #expect(try DID(parsing: signer.did.string) == signer.did)
        #expect(try DID(principalBytes: signer.did.principalBytes) == signer.did)
        #expect(signer.did.principalBytes.starts(with: [0xed, 0x01]))
        let web = try DID.web("web3.storage")
        #expect(web.principalBytes == [0x9d, 0x1a] + Array("web:web3.storage".utf8))
        #expect(try DID(principalBytes: web.principalBytes) == web)
        #expect(throws: StorachaError.self) { try DID(parsing: "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme") }
        #expect(throws: StorachaError.self) { try DID(parsing: "not-a-did") }
        // Identity-backed and seed-backed signers produce the same archive form.
        let roundTrip = try Signer(parsingArchive: signer.archive)
        #expect(roundTrip.did == signer.did)
    }

    @Test("our UCANs round-trip through DAG-CBOR and verify; the signing input is bytewise-sorted DAG-JSON")
    func roundTrip() throws {
        let issuer = try testSigner(1)
        let audience = try testSigner(2).did
        let proof = try Delegation.issue(
            issuer: issuer, audience: audience, capabilities: [Capability(can: "space/*", with: issuer.did.string)],
            expiration: nil
        )
        let ucan = try UCAN.issue(
            issuer: issuer, audience: audience,
            capabilities: [Capability(can: "space/blob/add", with: issuer.did.string, nb: ["blob": .map(["size": .int(5)])])],
            expiration: clock.now + 100, notBefore: clock.now - 10, nonce: "n1",
            facts: [.map(["k": .bytes([1, 2, 3])])], proofs: [proof.cid]
        )
        let block = try ucan.block()
        let parsed = try UCAN(parsing: block.bytes)
        #expect(parsed == ucan)
        #expect(try parsed.block() == block)
        #expect(parsed.verifySignature(key: issuer.did))
        #expect(!parsed.verifySignature(key: audience))
        let input = String(decoding: try ucan.signingInput(), as: UTF8.self)
        let parts = input.split(separator: ".")
        #expect(parts.count == 2)
        let header = try Multibase.base64url.decodeWithoutPrefix(parts[0])
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"EdDSA","typ":"JWT","ucv":"0.9.1"}"#)
        let payload = String(decoding: try Multibase.base64url.decodeWithoutPrefix(parts[1]), as: UTF8.self)
        #expect(payload.hasPrefix(#"{"att":[{"can":"space/blob/add","nb":{"blob":{"size":5}},"with":""#))
        #expect(payload.contains(#""fct":[{"k":{"/":{"bytes":"AQID"}}}],"iss":"#))
        #expect(payload.hasSuffix(#""nbf":\#(clock.now - 10),"nnc":"n1","prf":["\#(proof.cid)"]}"#))
        // No optional fields: exp null, no fct/nbf/nnc.
        let bare = try UCAN.issue(issuer: issuer, audience: audience, capabilities: [], expiration: nil)
        let bareValue = bare.dataModel.mapValue ?? [:]
        #expect(Set(bareValue.keys) == ["v", "iss", "aud", "att", "exp", "prf", "s"])
        #expect(bareValue["exp"] == .null)
    }

    /// space → owner (space/*) → contact (space/blob/add), contact invokes on the space.
    func chain(expiration: Int64? = nil) throws -> (space: Signer, owner: Signer, contact: Signer, toOwner: Delegation, toContact: Delegation) {
        let space = try testSigner(10), owner = try testSigner(11), contact = try testSigner(12)
        let validator = UCANValidator(clock: clock.clock)
        let toOwner = try Delegation.delegate(
            abilities: ["space/*"], on: space.did, to: owner.did, issuer: space, expiration: nil, validator: validator
        )
        let toContact = try Delegation.delegate(
            abilities: Ability.depositAbilities, on: space.did, to: contact.did, issuer: owner,
            expiration: expiration ?? clock.now + 3600, proofs: [toOwner], validator: validator
        )
        return (space, owner, contact, toOwner, toContact)
    }

    func invoke(_ issuer: Signer, _ can: String, on space: DID, proofs: [Delegation], audience: DID? = nil, nb: [String: IPLDValue] = [:]) throws -> Delegation {
        try Delegation.issue(
            issuer: issuer, audience: audience ?? service, capabilities: [Capability(can: can, with: space.string, nb: nb)],
            expiration: clock.now + 30, proofs: proofs
        )
    }

    @Test("a re-delegated deposit ability validates back to the space")
    func validChain() throws {
        let c = try chain()
        let validator = UCANValidator(clock: clock.clock)
        let invocation = try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [c.toContact])
        #expect(try validator.validateInvocation(invocation, audience: service).can == Ability.spaceBlobAdd)
        // Through an archive and back the chain is still complete.
        let imported = try Delegation(parsing: try c.toContact.formatted())
        let again = try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [imported])
        _ = try validator.validateInvocation(again, audience: service)
    }

    @Test("tampered signatures are refused anywhere in the chain")
    func tampered() throws {
        let c = try chain()
        let validator = UCANValidator(clock: clock.clock)
        var ucan = c.toOwner.ucan
        var raw = ucan.signature.raw
        raw[0] ^= 0x80
        ucan.signature = try UCANSignature(ed25519: raw)
        let badRoot = try Delegation(ucan: ucan)
        let toContact = try Delegation.issue(
            issuer: c.owner, audience: c.contact.did, capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string)],
            expiration: clock.now + 60, proofs: [badRoot]
        )
        let invocation = try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [toContact])
        #expect { try validator.validateInvocation(invocation, audience: self.service) } throws: { ($0 as? StorachaError)?.code == .invalidSignature }
        // And the invocation's own signature.
        let good = try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [c.toContact])
        var own = good.ucan
        own.signature = try UCANSignature(ed25519: [UInt8](repeating: 7, count: 64))
        let forged = try Delegation(ucan: own, proofs: [c.toContact])
        #expect { try validator.validateInvocation(forged, audience: self.service) } throws: { ($0 as? StorachaError)?.code == .invalidSignature }
        // A signature bit flip inside the block bytes also fails.
        #expect(!own.verifySignature(key: c.contact.did))
    }

    @Test("expired and not-yet-valid delegations are refused")
    func expiry() throws {
        let c = try chain(expiration: clock.now + 60)
        let validator = UCANValidator(clock: clock.clock)
        let invocation = try Delegation.issue(
            issuer: c.contact, audience: service, capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string)],
            expiration: nil, proofs: [c.toContact]
        )
        _ = try validator.validateInvocation(invocation, audience: service)
        clock.advance(by: 61)
        #expect { try validator.validateInvocation(invocation, audience: self.service) } throws: { ($0 as? StorachaError)?.code == .expired }
        let early = try Delegation.issue(
            issuer: c.owner, audience: c.contact.did, capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string)],
            expiration: nil, notBefore: clock.now + 100, proofs: [c.toOwner]
        )
        let tooEarly = try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [early])
        #expect { try validator.validateInvocation(tooEarly, audience: self.service) } throws: { ($0 as? StorachaError)?.code == .notYetValid }
    }

    @Test("insufficient and misaligned delegations are refused")
    func insufficientAndMisaligned() throws {
        let c = try chain()
        let validator = UCANValidator(clock: clock.clock)
        func refused(_ invocation: Delegation, _ code: StorachaError.Code = .unauthorized) {
            #expect { try validator.validateInvocation(invocation, audience: self.service) } throws: { ($0 as? StorachaError)?.code == code }
        }
        // Deposit rights do not include listing or removing.
        refused(try invoke(c.contact, Ability.spaceBlobList, on: c.space.did, proofs: [c.toContact]))
        refused(try invoke(c.contact, Ability.spaceBlobRemove, on: c.space.did, proofs: [c.toContact]))
        // Another space.
        let other = try testSigner(20)
        refused(try invoke(c.contact, Ability.spaceBlobAdd, on: other.did, proofs: [c.toContact]))
        // Someone else using the contact's delegation (audience linking).
        let mallory = try testSigner(21)
        refused(try invoke(mallory, Ability.spaceBlobAdd, on: c.space.did, proofs: [c.toContact]))
        // Root issuer is not the space: the owner delegates without a proof.
        let unproven = try Delegation.issue(
            issuer: c.owner, audience: c.contact.did, capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string)],
            expiration: nil
        )
        refused(try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [unproven]))
        // Proof blocks missing: linked but not shipped.
        let linkedOnly = try Delegation(ucan: try UCAN.issue(
            issuer: c.contact, audience: service, capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string)],
            expiration: clock.now + 30, proofs: [c.toContact.cid]
        ))
        refused(linkedOnly)
        // Caveats narrow: a delegation for one digest does not cover another.
        let narrow = try Delegation.issue(
            issuer: c.owner, audience: c.contact.did,
            capabilities: [Capability(can: Ability.spaceBlobAdd, with: c.space.did.string, nb: ["blob": .map(["size": .int(1)])])],
            expiration: nil, proofs: [c.toOwner]
        )
        _ = try validator.validateInvocation(
            try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [narrow], nb: ["blob": .map(["size": .int(1)])]),
            audience: service
        )
        refused(try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [narrow], nb: ["blob": .map(["size": .int(2)])]))
        // Wrong audience.
        refused(try invoke(c.contact, Ability.spaceBlobAdd, on: c.space.did, proofs: [c.toContact], audience: try DID.web("elsewhere")), .wrongAudience)
        // Re-delegating what one does not hold fails at issue time.
        #expect(throws: StorachaError.self) {
            try Delegation.delegate(
                abilities: [Ability.spaceBlobList], on: c.space.did, to: mallory.did, issuer: c.contact,
                expiration: nil, proofs: [c.toContact], validator: validator
            )
        }
    }

    @Test("wildcards: * and prefix/* match, others do not")
    func wildcards() {
        #expect(UCANValidator.abilityMatches("*", "space/blob/add"))
        #expect(UCANValidator.abilityMatches("space/*", "space/blob/add"))
        #expect(UCANValidator.abilityMatches("space/blob/*", "space/blob/add"))
        #expect(!UCANValidator.abilityMatches("space/blob/*", "space/index/add"))
        #expect(!UCANValidator.abilityMatches("upload/*", "space/blob/add"))
        #expect(!UCANValidator.abilityMatches("space/blob/add", "space/blob/remove"))
    }

    @Test("malformed UCAN blocks and varsigs are refused")
    func malformed() throws {
        #expect(throws: StorachaError.self) { try UCAN(parsing: [0xa0]) }
        #expect(throws: StorachaError.self) { try UCAN(parsing: [0xff, 0x00]) }
        #expect(throws: StorachaError.self) { try UCANSignature(parsing: [0xed, 0xa1, 0x03, 0x40, 1, 2]) }
        #expect(throws: StorachaError.self) { try UCANSignature(parsing: [0x13, 0x40] + [UInt8](repeating: 0, count: 64)) }
        #expect(throws: StorachaError.self) { try Delegation(parsing: "mAAAA") }
        #expect(throws: StorachaError.self) { try Delegation(archive: try StorachaVectors.bytes("upload-service-empty.car")) }
    }
}
