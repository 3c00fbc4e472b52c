import ChatStore
import Foundation
import LibP2P
import Logging
import Storacha

/// The Storacha spaces this user receives at and the deposit rights given to contacts
/// (ARCHITECTURE.md Mailboxes, "storacha space" kind): `p2pchat storacha config|space|delegate|revoke`,
/// renewal of contacts' rights, and grants received from contacts.
///
/// Trust: a space is added only with a delegation whose chain verifies back to the space
/// (signatures, expiry, audience = our Storacha agent did:key) and that grants
/// `space/blob/add`, `list` and `remove` there. A contact gets only
/// ``Ability/depositAbilities`` (`space/blob/add`; the `http/put` receipt is signed by the
/// blob-derived key and `ucan/conclude` is invoked on the invoker's own did:key, so neither needs
/// a delegation), for ``defaultGrantLifetime``, re-issued inside the session while not revoked.
/// Revoking stops re-issuing and tells the contact; the last delegation stays usable until it
/// expires (`ucan/revoke` is not implemented by the client nor the conformance service).
///
/// Privacy ("storage providers never see senders"): no identity key reaches the service. The
/// delegation a contact gets is for a random per-contact deposit key (``StorachaDepositKey``)
/// whose seed travels with it inside the session, and the contact signs deposits with that key.
/// Renewals re-delegate to the same deposit key (the per-contact tag in every drop already
/// links one contact's deposits, so rotating would hide nothing more); a grant issued again
/// after a revocation gets a fresh key. Our own agent key is derived one-way from the identity.
public struct StorachaDirectory: Sendable {
    /// How long a contact's deposit rights last unless renewed.
    public static let defaultGrantLifetime: Duration = .seconds(24 * 3600)
    /// The shortest and longest grant lifetimes accepted.
    public static let grantLifetimeRange: ClosedRange<Int64> = 3600...(30 * 24 * 3600)
    /// The abilities a space delegation must give us to receive there.
    public static let requiredSpaceAbilities = [Ability.spaceBlobAdd, Ability.spaceBlobList, Ability.spaceBlobRemove]

    /// The home.
    public let account: ChatAccount
    let transport: any StorachaTransport
    let pollDelay: (@Sendable (Int) async throws -> Void)?
    let logger: Logger

    /// A directory for `account`; `transport` and `pollDelay` are for tests.
    public init(
        account: ChatAccount, transport: any StorachaTransport = HTTPClient(),
        pollDelay: (@Sendable (Int) async throws -> Void)? = nil, logger: Logger = Logger(label: "p2pchat.storacha")
    ) {
        self.account = account
        self.transport = transport
        self.pollDelay = pollDelay
        self.logger = logger
    }

    /// UCAN time that follows the account's clock (tests move both at once).
    public var clock: StorachaClock {
        let account = account
        return StorachaClock { Int64(account.now().timeIntervalSince1970.rounded(.down)) }
    }

    var validator: UCANValidator { UCANValidator(clock: clock) }

    /// Our Storacha agent: a key derived one-way from the identity, never the PeerID's key.
    func signer() throws -> Signer {
        try StorachaDepositKey.agent(of: account.identity)
    }

    /// Our Storacha agent's did:key (what spaces are delegated to; not the PeerID's key).
    public func did() throws -> DID { try signer().did }

    /// A client for `endpoint` signing as `agent` (our agent by default; a deposit key for deposits).
    func client(_ endpoint: StorachaEndpoint, agent: Signer? = nil) throws -> StorachaClient {
        StorachaClient(
            agent: try agent ?? signer(), configuration: try endpoint.configuration(), transport: transport, clock: clock, pollDelay: pollDelay)
    }

    // MARK: Configuration

    /// The service this home uses (``StorachaEndpoint/default`` until configured).
    public func endpoint() async throws -> StorachaEndpoint {
        guard let json = try await account.database.storachaEndpoint() else { return .default }
        return try StorachaEndpoint(json: json)
    }

    /// Switches service; contacts learn it with their next grant (renewals follow at once).
    public func configure(_ endpoint: StorachaEndpoint) async throws {
        try await account.database.setStorachaEndpoint(endpoint.json, now: account.now())
        for grant in try await account.database.storachaGrants() where grant.revokedAt == nil {
            guard let contact = try await account.database.contact(id: grant.contactID) else { continue }
            _ = try? await issue(to: contact, space: grant.space, lifetimeSeconds: grant.lifetimeSeconds)
        }
    }

    // MARK: Spaces

    /// Reads a delegation given as `m…`/`u…` text or as the path of an archive CAR file.
    public static func readDelegation(_ argument: String) throws -> Delegation {
        let path = (argument as NSString).expandingTildeInPath
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ChatNodeError(.malformedInput, "cannot read \(path)")
            }
            do {
                return try Delegation(archive: Array(data))
            } catch {
                throw ChatNodeError(.malformedInput, "\(path) is not a delegation archive (CAR): \(Self.describe(error))", underlying: error)
            }
        }
        do {
            return try Delegation(parsing: argument)
        } catch {
            throw ChatNodeError(
                .malformedInput, "not a delegation (the m… text `storacha delegation create --base64` prints, or a .car file): \(Self.describe(error))",
                underlying: error)
        }
    }

    /// Verifies `delegation` (chain back to the space, not expired, for our did:key, with the
    /// abilities to deposit, list and remove) and returns the spaces it covers.
    public func verifySpaceDelegation(_ delegation: Delegation) throws -> [DID] {
        let ours = try did()
        guard delegation.ucan.audience == ours else {
            throw ChatNodeError(
                .malformedInput,
                "the delegation is for \(delegation.ucan.audience), not for this user's Storacha did:key \(ours); delegate the space to \(ours)")
        }
        do {
            try validator.validateDelegation(delegation)
        } catch {
            throw ChatNodeError(.malformedInput, "the delegation does not verify: \(Self.describe(error))", underlying: error)
        }
        let candidates = Set(delegation.ucan.capabilities.compactMap { try? DID(parsing: $0.with) }.filter(\.isKey))
        let spaces = candidates.filter { space in
            Self.requiredSpaceAbilities.allSatisfy { ability in
                delegation.ucan.capabilities.contains { UCANValidator.covers($0, Capability(can: ability, with: space.string)) }
            }
        }
        guard !spaces.isEmpty else {
            throw ChatNodeError(
                .malformedInput,
                "the delegation does not let you add, list and remove blobs on a space (it needs \(Self.requiredSpaceAbilities.joined(separator: ", ")) or space/* on a did:key space)")
        }
        return spaces.sorted()
    }

    /// Imports a space delegation; returns the spaces added.
    @discardableResult
    public func addSpace(_ delegation: Delegation) async throws -> [DID] {
        _ = try await account.profile()
        let spaces = try verifySpaceDelegation(delegation)
        let archive = try delegation.archive()
        let expiry = Self.chainExpiry(delegation).map { Date(timeIntervalSince1970: Double($0)) }
        for space in spaces {
            try await account.database.upsertStorachaSpace(space: space.string, delegation: Data(archive), expiresAt: expiry, now: account.now())
        }
        return spaces
    }

    /// Our spaces with the contacts that may deposit there.
    public func spaces() async throws -> [StorachaSpaceSummary] {
        let grants = try await account.database.storachaGrants()
        var result: [StorachaSpaceSummary] = []
        for record in try await account.database.storachaSpaces() {
            var depositors: [String] = []
            for grant in grants where grant.space == record.space && grant.revokedAt == nil {
                if let contact = try await account.database.contact(id: grant.contactID) { depositors.append(contact.displayName) }
            }
            result.append(StorachaSpaceSummary(space: record.space, expiresAt: record.expiresAt, depositors: depositors))
        }
        return result
    }

    // MARK: Grants

    /// Gives `contact` deposit rights on our space (the only one, or `space`) for `lifetime`,
    /// renewed automatically until revoked; the delegation goes to the contact inside the
    /// session. Returns the grant.
    @discardableResult
    public func delegate(to contact: Contact, space: String? = nil, lifetime: Duration = defaultGrantLifetime) async throws -> StorachaGrantRecord {
        let seconds = lifetime.components.seconds
        guard Self.grantLifetimeRange.contains(seconds) else {
            throw ChatNodeError(.malformedInput, "delegation lifetime must be 1 hour to 30 days")
        }
        let spaces = try await account.database.storachaSpaces()
        let chosen: String
        if let space {
            guard spaces.contains(where: { $0.space == space }) else {
                throw ChatNodeError(.malformedInput, "\(space) is not one of your spaces; see `p2pchat storacha space list`")
            }
            chosen = space
        } else {
            guard let only = spaces.first else {
                throw ChatNodeError(.malformedInput, "no Storacha space: add one with `p2pchat storacha space add DELEGATION`")
            }
            guard spaces.count == 1 else {
                throw ChatNodeError(.malformedInput, "you have \(spaces.count) spaces: name one with --space")
            }
            chosen = only.space
        }
        return try await issue(to: contact, space: chosen, lifetimeSeconds: seconds)
    }

    /// Stops renewing `contact`'s deposit rights and tells it; returns how many grants ended.
    @discardableResult
    public func revoke(_ contact: Contact) async throws -> Int {
        let ended = try await account.database.revokeStorachaGrants(contactID: contact.id, now: account.now())
        for grant in ended {
            _ = try await account.enqueue(StorachaGrantContent(revoking: grant.space).body, kind: .control, to: contact.id)
        }
        return ended.count
    }

    /// Re-issues every unrevoked grant with less than half its lifetime left; returns how many.
    @discardableResult
    public func renewDue() async throws -> Int {
        let now = account.now()
        var renewed = 0
        for grant in try await account.database.storachaGrants() where grant.revokedAt == nil {
            guard grant.expiresAt.timeIntervalSince(now) < Double(grant.lifetimeSeconds) / 2,
                  let contact = try await account.database.contact(id: grant.contactID)
            else { continue }
            do {
                try await issue(to: contact, space: grant.space, lifetimeSeconds: grant.lifetimeSeconds)
                renewed += 1
            } catch let error as ChatStoreError {
                throw error
            } catch {
                logger.warning("cannot renew a contact's Storacha deposit rights", metadata: [
                    "contact": "\(contact.displayName)", "space": "\(grant.space)", "reason": "\(Self.describe(error))",
                ])
            }
        }
        return renewed
    }

    /// Issues a fresh delegation of the deposit abilities to `contact`'s deposit key (kept across
    /// renewals, fresh for a new or re-granted contact), records it and queues it with the key.
    @discardableResult
    private func issue(to contact: Contact, space: String, lifetimeSeconds: Int64) async throws -> StorachaGrantRecord {
        guard let record = try await account.database.storachaSpaces().first(where: { $0.space == space }) else {
            throw ChatNodeError(.malformedInput, "\(space) is not one of your spaces")
        }
        let existing = try await account.database.storachaGrants().first { $0.contactID == contact.id && $0.space == space }
        let depositKey: Signer
        if let existing, existing.revokedAt == nil, let kept = try? StorachaDepositKey.signer(stored: existing.depositKey) {
            depositKey = kept
        } else {
            depositKey = try StorachaDepositKey.generate()
        }
        let audience = depositKey.did
        let proof = try Delegation(archive: Array(record.delegation))
        let spaceDID = try DID(parsing: space)
        let now = clock.now()
        var expiration = now + lifetimeSeconds
        if let limit = Self.chainExpiry(proof) { expiration = min(expiration, limit) }
        let delegation: Delegation
        do {
            delegation = try Delegation.delegate(
                abilities: Ability.depositAbilities, on: spaceDID, to: audience, issuer: try signer(), expiration: expiration,
                proofs: [proof], validator: validator)
        } catch {
            throw ChatNodeError(
                .malformedInput, "cannot re-delegate \(space): your own delegation no longer verifies (\(Self.describe(error))); add a fresh one with `p2pchat storacha space add`",
                underlying: error)
        }
        let tag = existing?.tag ?? Data((0..<StorachaDrop.tagLength).map { _ in UInt8.random(in: 0...255) })
        let grant = try await account.database.upsertStorachaGrant(
            contactID: contact.id, space: space, tag: tag, depositKey: StorachaDepositKey.stored(depositKey), lifetimeSeconds: lifetimeSeconds,
            expiresAt: Date(timeIntervalSince1970: Double(expiration)), now: account.now())
        let content = StorachaGrantContent(
            space: space, tag: tag, delegation: try delegation.archive(), depositKey: depositKey, endpoint: try await endpoint())
        _ = try await account.enqueue(content.body, kind: .control, to: contact.id)
        return grant
    }

    // MARK: Received grants

    /// Applies a grant or revocation that `contact` sent inside the session. A grant that does
    /// not verify is logged and ignored (the message itself is still stored).
    func receive(_ content: StorachaGrantContent, from contact: Contact) async throws {
        if content.isRevocation {
            try await account.database.deleteStorachaInbox(contactID: contact.id, space: content.space)
            logger.info("contact revoked our Storacha deposit rights", metadata: ["contact": "\(contact.displayName)", "space": "\(content.space)"])
            return
        }
        do {
            guard let archive = content.delegation, let tag = content.tagBytes, let endpoint = content.endpoint,
                  let keyText = content.depositKey
            else { return }
            let depositKey: Signer
            do {
                depositKey = try Signer(parsingArchive: keyText)
            } catch {
                throw ChatNodeError(.malformedInput, "deposit key does not parse", underlying: error)
            }
            let delegation = try Delegation(archive: Array(archive))
            let space = try DID(parsing: content.space)
            guard delegation.ucan.audience == depositKey.did else {
                throw ChatNodeError(.malformedInput, "delegation is for \(delegation.ucan.audience), not the deposit key \(depositKey.did) it came with")
            }
            try validator.validateDelegation(delegation)
            let deposit = Capability(can: Ability.spaceBlobAdd, with: space.string)
            guard delegation.ucan.capabilities.contains(where: { UCANValidator.covers($0, deposit) }) else {
                throw ChatNodeError(.malformedInput, "delegation does not grant \(deposit)")
            }
            let expiry = Self.chainExpiry(delegation).map { Date(timeIntervalSince1970: Double($0)) }
            try await account.database.upsertStorachaInbox(
                contactID: contact.id, space: space.string, tag: tag, depositKey: StorachaDepositKey.stored(depositKey), delegation: archive,
                endpoint: endpoint.json,
                expiresAt: expiry, now: account.now())
        } catch let error as ChatStoreError {
            throw error
        } catch {
            logger.notice("ignored a Storacha grant that does not verify", metadata: [
                "contact": "\(contact.displayName)", "reason": "\(Self.describe(error))",
            ])
        }
    }

    // MARK: Helpers

    /// The earliest `exp` in the delegation's chain (seconds), `nil` when none expires.
    public static func chainExpiry(_ delegation: Delegation, depth: Int = 0) -> Int64? {
        var earliest = delegation.ucan.expiration
        guard depth < Delegation.maxProofDepth else { return earliest }
        for proof in delegation.proofs {
            if let expiry = chainExpiry(proof, depth: depth + 1) { earliest = min(earliest ?? expiry, expiry) }
        }
        return earliest
    }

    /// One line for a Storacha, ChatNode or other error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? StorachaError {
            return "\(error.code): \(error.message)" + (error.remoteName.map { " [\($0)]" } ?? "")
        }
        if let error = error as? ChatNodeError { return error.message }
        return "\(error)"
    }
}
