import IPLD
import Multiformats

/// A UCAN 0.9.1 in its primary IPLD representation: one DAG-CBOR block.
///
/// Implements ucan-wg/spec 0.9.1 as ucanto encodes it (dag-ucan `src/codec/cbor.js`; go-ucanto
/// `ucan/datamodel/ucan/ucan.ipldsch`): `{v, iss, aud, att, exp, prf, s}` plus `fct` (when not
/// empty), `nnc` and `nbf` (when set). `iss`/`aud` are principal bytes (``DID/principalBytes``),
/// `exp` is `null` for "never". The signature covers the JWT-style signing input
/// (``signingInput()``), not the block.
public struct UCAN: Hashable, Sendable {
    /// The only UCAN version produced (`v`).
    public static let version = "0.9.1"
    /// The most capabilities, proofs or facts accepted in one UCAN.
    public static let maxListLength = 1024
    /// The longest nonce accepted, in UTF-8 bytes.
    public static let maxNonceLength = 1024

    /// `v`: the UCAN version string.
    public var version: String
    /// `iss`: who signed it.
    public var issuer: DID
    /// `aud`: who it is for.
    public var audience: DID
    /// `att`: the capabilities delegated or invoked.
    public var capabilities: [Capability]
    /// `exp`: seconds since the epoch after which it is invalid; `nil` means never (`null`).
    public var expiration: Int64?
    /// `nbf`: seconds since the epoch before which it is invalid.
    public var notBefore: Int64?
    /// `nnc`: a nonce.
    public var nonce: String?
    /// `fct`: facts (maps).
    public var facts: [IPLDValue]
    /// `prf`: links to the proof UCANs.
    public var proofs: [CID]
    /// `s`: the signature.
    public var signature: UCANSignature

    /// Parses a UCAN DAG-CBOR block (dag-ucan `codec/cbor.js decode`); does not verify it.
    public init(parsing bytes: [UInt8]) throws {
        let value: IPLDValue
        do {
            value = try DAGCBOR.decode(bytes)
        } catch {
            throw StorachaError(.malformedInput, "UCAN block is not DAG-CBOR", underlying: error)
        }
        try self.init(dataModel: value)
    }

    /// Parses a UCAN from its data-model value.
    public init(dataModel value: IPLDValue) throws {
        guard let map = value.mapValue else { throw StorachaError(.malformedInput, "UCAN is not a map") }
        let known: Set<String> = ["v", "iss", "aud", "att", "exp", "nbf", "nnc", "fct", "prf", "s"]
        if let unknown = map.keys.first(where: { !known.contains($0) }) {
            throw StorachaError(.malformedInput, "UCAN has unknown field \(unknown)")
        }
        guard let version = map["v"]?.stringValue, version.hasPrefix("0.9.") || version.hasPrefix("0.10.") else {
            throw StorachaError(.unsupported, "UCAN version \(map["v"].map { "\($0)" } ?? "missing") (expected 0.9.x)")
        }
        self.version = version
        guard let iss = map["iss"]?.bytesValue, let aud = map["aud"]?.bytesValue else {
            throw StorachaError(.malformedInput, "UCAN iss and aud must be principal bytes")
        }
        issuer = try DID(principalBytes: iss)
        audience = try DID(principalBytes: aud)
        guard let att = map["att"]?.listValue, att.count <= Self.maxListLength else {
            throw StorachaError(.malformedInput, "UCAN att must be a list of at most \(Self.maxListLength)")
        }
        capabilities = try att.map(Capability.init(parsing:))
        switch map["exp"] {
        case .null?: expiration = nil
        case .integer(let integer)?:
            guard let seconds = integer.int64Value else { throw StorachaError(.malformedInput, "UCAN exp out of range") }
            expiration = seconds
        default: throw StorachaError(.malformedInput, "UCAN exp must be an integer or null")
        }
        switch map["nbf"] {
        case nil: notBefore = nil
        case .integer(let integer)?:
            guard let seconds = integer.int64Value else { throw StorachaError(.malformedInput, "UCAN nbf out of range") }
            notBefore = seconds
        default: throw StorachaError(.malformedInput, "UCAN nbf must be an integer")
        }
        switch map["nnc"] {
        case nil: nonce = nil
        case .string(let text)?:
            guard text.utf8.count <= Self.maxNonceLength else { throw StorachaError(.limitExceeded, "UCAN nonce too long") }
            nonce = text
        default: throw StorachaError(.malformedInput, "UCAN nnc must be a string")
        }
        switch map["fct"] {
        case nil: facts = []
        case .list(let list)?:
            guard list.count <= Self.maxListLength, list.allSatisfy({ $0.mapValue != nil }) else {
                throw StorachaError(.malformedInput, "UCAN fct must be a list of maps")
            }
            facts = list
        default: throw StorachaError(.malformedInput, "UCAN fct must be a list")
        }
        guard let prf = map["prf"]?.listValue, prf.count <= Self.maxListLength else {
            throw StorachaError(.malformedInput, "UCAN prf must be a list of links")
        }
        proofs = try prf.map {
            guard let cid = $0.linkValue else { throw StorachaError(.malformedInput, "UCAN proof is not a link") }
            return cid
        }
        guard let s = map["s"]?.bytesValue else { throw StorachaError(.malformedInput, "UCAN s must be bytes") }
        signature = try UCANSignature(parsing: s)
    }

    /// Signs a new UCAN (dag-ucan `issue`). `expiration: nil` means never expires.
    public static func issue(
        issuer: Signer, audience: DID, capabilities: [Capability], expiration: Int64?,
        notBefore: Int64? = nil, nonce: String? = nil, facts: [IPLDValue] = [], proofs: [CID] = []
    ) throws -> UCAN {
        var ucan = UCAN(
            issuer: issuer.did, audience: audience, capabilities: capabilities, expiration: expiration,
            notBefore: notBefore, nonce: nonce, facts: facts, proofs: proofs
        )
        ucan.signature = try issuer.sign(ucan.signingInput())
        return ucan
    }

    private init(
        issuer: DID, audience: DID, capabilities: [Capability], expiration: Int64?, notBefore: Int64?,
        nonce: String?, facts: [IPLDValue], proofs: [CID]
    ) {
        self.version = Self.version
        self.issuer = issuer
        self.audience = audience
        self.capabilities = capabilities
        self.expiration = expiration
        self.notBefore = notBefore
        self.nonce = nonce
        self.facts = facts
        self.proofs = proofs
        // Replaced by `issue` before anyone sees it.
        self.signature = UCANSignature(unsignedPlaceholder: ())
    }

    /// The block's data-model value; optional fields only when set (dag-ucan `codec/cbor.js`).
    public var dataModel: IPLDValue {
        var map: [String: IPLDValue] = [
            "v": .string(version),
            "iss": .bytes(issuer.principalBytes),
            "aud": .bytes(audience.principalBytes),
            "att": .list(capabilities.map(\.dataModel)),
            "exp": expiration.map { .integer(IPLDInteger($0)) } ?? .null,
            "prf": .list(proofs.map(IPLDValue.link)),
            "s": .bytes(signature.bytes),
        ]
        if !facts.isEmpty { map["fct"] = .list(facts) }
        if let nonce, !nonce.isEmpty { map["nnc"] = .string(nonce) }
        if let notBefore, notBefore != 0 { map["nbf"] = .integer(IPLDInteger(notBefore)) }
        return .map(map)
    }

    /// The DAG-CBOR block and its CID.
    public func block() throws -> IPLDBlock {
        let bytes: [UInt8]
        do {
            bytes = try DAGCBOR.encode(dataModel)
        } catch {
            throw StorachaError(.malformedInput, "UCAN does not encode as DAG-CBOR", underlying: error)
        }
        return IPLDBlock(codec: .dagCBOR, bytes: bytes)
    }

    /// The bytes the signature covers (dag-ucan `formatter.js formatSignPayload`):
    /// `base64url(H) "." base64url(P)`, unpadded, where H = DAG-JSON
    /// `{"alg":"EdDSA","typ":"JWT","ucv":v}` and P = DAG-JSON `{att, aud, exp, fct?, iss, nbf?,
    /// nnc?, prf}` with DID strings, `prf` as CID strings, keys sorted bytewise.
    public func signingInput() throws -> [UInt8] {
        let header: IPLDValue = .map(["alg": .string("EdDSA"), "typ": .string("JWT"), "ucv": .string(version)])
        var payload: [String: IPLDValue] = [
            "iss": .string(issuer.string),
            "aud": .string(audience.string),
            "att": .list(capabilities.map(\.dataModel)),
            "exp": expiration.map { .integer(IPLDInteger($0)) } ?? .null,
            "prf": .list(proofs.map { .string($0.description) }),
        ]
        if !facts.isEmpty { payload["fct"] = .list(facts) }
        if let nonce, !nonce.isEmpty { payload["nnc"] = .string(nonce) }
        if let notBefore, notBefore != 0 { payload["nbf"] = .integer(IPLDInteger(notBefore)) }
        do {
            let h = Multibase.base64url.encodeWithoutPrefix(try DAGJSON.encode(header))
            let p = Multibase.base64url.encodeWithoutPrefix(try DAGJSON.encode(.map(payload)))
            return Array((h + "." + p).utf8)
        } catch {
            throw StorachaError(.malformedInput, "UCAN payload does not encode as DAG-JSON", underlying: error)
        }
    }

    /// Whether the signature verifies against `key` (the issuer's did:key, or the key a non-key
    /// issuer resolves to).
    public func verifySignature(key: DID) -> Bool {
        guard let input = try? signingInput() else { return false }
        return key.verify(signature: signature.raw, for: input)
    }

    /// Whether `exp` ≤ `now` (dag-ucan `isExpired`).
    public func isExpired(at now: Int64) -> Bool {
        guard let expiration else { return false }
        return expiration <= now
    }

    /// Whether `now` < `nbf` (dag-ucan `isTooEarly`).
    public func isTooEarly(at now: Int64) -> Bool {
        guard let notBefore else { return false }
        return now < notBefore
    }
}

extension UCANSignature {
    /// An all-zero signature, only ever seen between building and signing a UCAN or receipt.
    init(unsignedPlaceholder: Void) {
        // A constant of the right length cannot fail.
        self = try! UCANSignature(ed25519: [UInt8](repeating: 0, count: Self.ed25519Length))
    }
}
