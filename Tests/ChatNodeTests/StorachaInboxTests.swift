import ChatStore
import Foundation
import LibP2P
import Multiformats
import Storacha
import StorachaConformance
import Testing

@testable import ChatNode

private func directory(_ account: ChatAccount) -> StorachaDirectory {
    StorachaDirectory(account: account, logger: quietLogger("storacha"))
}

/// The queued Storacha control messages from `account` to `contact`, newest last.
private func queuedGrants(_ account: ChatAccount, to name: String) async throws -> [StorachaGrantContent] {
    let contact = try await account.contact(named: name)
    return try await account.database.dueOutbox(now: .distantFuture, limit: 1_000_000)
        .filter { $0.contactID == contact.id && $0.message.kind == .control }
        .sorted { $0.message.seq < $1.message.seq }
        .compactMap { try? StorachaGrantContent(parsing: $0.message.body) }
}

/// Bob (online on `port`) invites Alice; both learn each other.
private func introduce(alice: ChatAccount, nodeA: ChatNode, bob: ChatAccount, nodeB: ChatNode) async throws {
    let invite = try await bob.makeInvite(addresses: try await nodeB.listeningAddresses())
    try await alice.addContact(invite: try alice.parseInvite(invite.text), name: "bob")
    nodeA.kick()
    try await until("bob learns alice from her hello") { try await bob.database.contact(peerID: alice.peerID) != nil }
}

/// Bob, online, gives Alice deposit rights on his space; waits until Alice recorded them.
private func grant(from bob: ChatAccount, nodeB: ChatNode, to alice: ChatAccount) async throws {
    try await directory(bob).delegate(to: try await bob.contact(named: "alice"))
    nodeB.kick()
    let bobID = try await alice.contact(named: "bob").id
    try await until("alice records bob's space") { try await !alice.database.storachaInboxes(contactID: bobID).isEmpty }
}

@Suite("Storacha spaces as inboxes", .serialized)
struct StorachaInboxTests {
    @Test("space add verifies the delegation: good, expired, wrong audience, tampered, insufficient, CAR file")
    func importAndVerify() async throws {
        try await withTemporaryHome { home in
            let clock = TestClock()
            let bob = try await makeAccount(home: home, name: "bob", clock: clock.function)
            let storacha = try await TestStoracha.start(clock: clock.function)
            try await storacha.server.stop()  // verification is local
            let spaces = directory(bob)
            let now = Int64(clock.now.timeIntervalSince1970)

            // Good, as the m… text the Storacha CLI prints.
            let good = try storacha.spaceDelegation(to: bob, expiration: now + 3600)
            let text = try good.formatted()
            #expect(try await spaces.addSpace(try StorachaDirectory.readDelegation(text)) == [storacha.space.did])
            let listed = try await spaces.spaces()
            #expect(listed.map(\.space) == [storacha.space.did.string])
            #expect(listed.first?.expiresAt.map { Int64($0.timeIntervalSince1970) } == now + 3600)

            // And as a CAR file path.
            let file = home.appendingPathComponent("space.car")
            try Data(try good.archive()).write(to: file)
            #expect(try StorachaDirectory.readDelegation(file.path).cid == good.cid)

            func refusal(_ delegation: Delegation) -> String {
                do {
                    _ = try spaces.verifySpaceDelegation(delegation)
                    return "accepted"
                } catch {
                    return (error as? ChatNodeError)?.message ?? "\(error)"
                }
            }
            // Expired (exp in the past), and expiring later once the clock moves.
            #expect(refusal(try storacha.spaceDelegation(to: bob, expiration: now - 1)).contains("expired"))
            clock.advance(by: 3601)
            #expect(refusal(good).contains("expired"))
            clock.advance(by: -3601)
            // For someone else.
            let stranger = try Signer(ed25519Seed: [UInt8](repeating: 9, count: 32))
            let elsewhere = try Delegation.issue(
                issuer: storacha.space, audience: stranger.did, capabilities: [Capability(can: "space/*", with: storacha.space.did.string)],
                expiration: nil)
            #expect(refusal(elsewhere).contains("not for this user's Storacha did:key"))
            // Bob's Storacha did:key is not his PeerID's key, so a delegation to that is refused too.
            let toPeerIDKey = try Delegation.issue(
                issuer: storacha.space, audience: try Signer(identity: bob.identity).did,
                capabilities: [Capability(can: "space/*", with: storacha.space.did.string)], expiration: nil)
            #expect(try spaces.did() != (try Signer(identity: bob.identity).did))
            #expect(refusal(toPeerIDKey).contains("not for this user's Storacha did:key"))
            // Tampered: another signature, or another resource under the same signature.
            var forged = good.ucan
            forged.signature = try UCANSignature(ed25519: [UInt8](repeating: 1, count: 64))
            #expect(refusal(try Delegation(ucan: forged)).contains("signature"))
            var widened = good.ucan
            widened.capabilities = [Capability(can: "*", with: storacha.space.did.string)]
            #expect(refusal(try Delegation(ucan: widened)).contains("signature"))
            // Issued by someone who is not the space and has no proof.
            let usurper = try Delegation.issue(
                issuer: stranger, audience: try spaces.did(), capabilities: [Capability(can: "space/*", with: storacha.space.did.string)],
                expiration: nil)
            #expect(refusal(usurper).contains("does not verify"))
            // Deposit only: cannot drain.
            #expect(refusal(try storacha.spaceDelegation(to: bob, abilities: [Ability.spaceBlobAdd])).contains("does not let you"))
            // Garbage text.
            #expect(throws: ChatNodeError.self) { try StorachaDirectory.readDelegation("mAAAAnot-a-delegation") }
        }
    }

    @Test("re-delegation: deposit only, to a fresh deposit key, 24 h, renewed while trusted, validated by the conformance server; revoke stops renewals")
    func redelegationChain() async throws {
        let clock = TestClock()
        try await withStoracha(clock: clock.function) { storacha in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice", clock: clock.function)
                    let bob = try await makeAccount(home: homeB, name: "bob", clock: clock.function)
                    // Bob adds Alice from her invite (no nodes needed).
                    let invite = try await alice.makeInvite(addresses: [])
                    try await bob.addContact(invite: try bob.parseInvite(invite.text), name: "alice")
                    try await useSpace(bob, of: storacha)
                    let spaces = directory(bob)
                    await #expect(throws: ChatNodeError.self) {
                        try await spaces.delegate(to: try await bob.contact(named: "alice"), lifetime: .seconds(60))
                    }
                    let record = try await spaces.delegate(to: try await bob.contact(named: "alice"))
                    let now = Int64(clock.now.timeIntervalSince1970)
                    #expect(Int64(record.expiresAt.timeIntervalSince1970) == now + 24 * 3600)

                    let sent = try #require(try await queuedGrants(bob, to: "alice").last)
                    #expect(sent.space == storacha.space.did.string && sent.endpoint == storacha.endpoint)
                    let delegation = try Delegation(archive: Array(try #require(sent.delegation)))
                    // The delegation is for a random deposit key sent with it, not for Alice's identity;
                    // Bob issues it as his Storacha agent, not as his PeerID's key.
                    let aliceAgent = try Signer(parsingArchive: try #require(sent.depositKey))
                    #expect(delegation.ucan.audience == aliceAgent.did)
                    #expect(aliceAgent.did != (try Signer(identity: alice.identity).did))
                    #expect(delegation.ucan.issuer == (try spaces.did()))
                    #expect(delegation.ucan.issuer != (try Signer(identity: bob.identity).did))
                    #expect(record.depositKey == StorachaDepositKey.stored(aliceAgent))
                    // Grants of format version 1 (delegations to the identity) are refused.
                    #expect(sent.body.contains("\"v\":2"))
                    #expect(throws: ChatNodeError.self) {
                        try StorachaGrantContent(parsing: sent.body.replacingOccurrences(of: "\"v\":2", with: "\"v\":1"))
                    }
                    #expect(delegation.ucan.capabilities == [Capability(can: Ability.spaceBlobAdd, with: storacha.space.did.string)])
                    #expect(delegation.ucan.expiration == now + 24 * 3600)
                    #expect(delegation.proofs.first?.ucan.issuer == storacha.space.did, "a chain back to the space")

                    // The server accepts the chain for a deposit, and refuses anything more.
                    let client = StorachaClient(agent: aliceAgent, configuration: try storacha.endpoint.configuration(), clock: directory(alice).clock)
                    let added = try await client.addBlob(Array("drop".utf8), to: storacha.space.did, proofs: [delegation])
                    #expect(storacha.server.service.hasBlob(added.digest))
                    await #expect { try await client.listBlobs(in: storacha.space.did, proofs: [delegation]) } throws: {
                        ($0 as? StorachaError)?.remoteName == "Unauthorized"
                    }
                    await #expect { try await client.removeBlob(added.digest, from: storacha.space.did, proofs: [delegation]) } throws: {
                        ($0 as? StorachaError)?.remoteName == "Unauthorized"
                    }

                    // Alice verifies and records it as one of Bob's mailboxes.
                    let invite2 = try await bob.makeInvite(addresses: [])
                    try await alice.addContact(invite: try alice.parseInvite(invite2.text), name: "bob")
                    let bobContact = try await alice.contact(named: "bob")
                    // A grant whose delegation is not for the deposit key it came with is ignored.
                    var mismatched = sent
                    mismatched.depositKey = try StorachaDepositKey.generate().archive
                    try await directory(alice).receive(mismatched, from: bobContact)
                    #expect(try await alice.database.storachaInboxes(contactID: bobContact.id).isEmpty)
                    try await directory(alice).receive(sent, from: bobContact)
                    let forAlice = try await alice.database.storachaInboxes(contactID: bobContact.id)
                    #expect(forAlice.map(\.space) == [storacha.space.did.string])
                    #expect(try StorachaDepositKey.signer(stored: forAlice.first?.depositKey).did == aliceAgent.did)
                    // Stored keys without a key or of another format version are refused.
                    #expect(throws: ChatNodeError.self) { try StorachaDepositKey.signer(stored: nil) }
                    #expect(throws: ChatNodeError.self) { try StorachaDepositKey.signer(stored: Data([2] + aliceAgent.archiveBytes)) }

                    // Renewal: nothing due at first; after 13 h a fresh 24 h delegation is queued.
                    #expect(try await spaces.renewDue() == 0)
                    clock.advance(by: 13 * 3600)
                    #expect(try await spaces.renewDue() == 1)
                    let renewed = try #require(try await queuedGrants(bob, to: "alice").last)
                    let renewedDelegation = try Delegation(archive: Array(try #require(renewed.delegation)))
                    #expect(renewedDelegation.ucan.expiration == now + 13 * 3600 + 24 * 3600)
                    #expect(renewed.tag == sent.tag, "the tag stays")
                    #expect(renewed.depositKey == sent.depositKey, "renewals re-delegate to the same deposit key")
                    #expect(renewedDelegation.ucan.audience == aliceAgent.did)

                    // Revoke: the contact is told, and renewals stop.
                    #expect(try await spaces.revoke(try await bob.contact(named: "alice")) == 1)
                    #expect(try await queuedGrants(bob, to: "alice").last?.isRevocation == true)
                    clock.advance(by: 20 * 3600)
                    #expect(try await spaces.renewDue() == 0)
                    #expect(try await spaces.spaces().first?.depositors == [])
                    try await directory(alice).receive(StorachaGrantContent(revoking: storacha.space.did.string), from: bobContact)
                    #expect(try await alice.database.storachaInboxes(contactID: bobContact.id).isEmpty)

                    // Granted again after the revocation: a fresh deposit key.
                    try await spaces.delegate(to: try await bob.contact(named: "alice"))
                    let regranted = try #require(try await queuedGrants(bob, to: "alice").last)
                    #expect(regranted.depositKey != nil && regranted.depositKey != sent.depositKey)
                }
            }
        }
    }

    @Test("offline delivery through Bob's Storacha space: granted in session, stored 1/1 in the space, drained once, removed; the service never sees either identity")
    func offlineThroughSpace() async throws {
        try await withStoracha { storacha in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice")
                    let bob = try await makeAccount(home: homeB, name: "bob")
                    try await useSpace(bob, of: storacha)
                    let seen = ObservedStorachaRequests(storacha.server.service)
                    let nodeA = makeMailboxNode(alice)
                    let port = UInt16(try await freePort())
                    try await withRunning([nodeA]) {
                        let nodeB = makeMailboxNode(bob, port: port)
                        try await whileOnline(nodeB) {
                            try await introduce(alice: alice, nodeA: nodeA, bob: bob, nodeB: nodeB)
                            try await grant(from: bob, nodeB: nodeB, to: alice)
                        }
                        // Bob is offline now.
                        let contact = try await alice.contact(named: "bob")
                        #expect(contact.mailboxes.isEmpty, "no mailbox: only the space")
                        let id = try await alice.send("via storacha", to: contact).message.id
                        nodeA.kick()
                        try await until("stored 1/1") { try await state(of: id, in: alice) == .stored(copies: 1, total: 1) }
                        let listed = try await storacha.listing()
                        #expect(listed.count == 1, "the envelope landed in Bob's space")
                        let blob = try #require(listed.first)
                        #expect(storacha.server.service.hasBlob(blob.digest))
                        #expect(try await bob.texts(with: "alice").isEmpty)

                        try await whileOnline(makeMailboxNode(bob, port: port)) {
                            try await until("bob has the message") { try await bob.texts(with: "alice").count == 1 }
                            try await until("the drop is removed from the space") { try await storacha.listing().isEmpty }
                            try await until("alice's message delivered") { try await state(of: id, in: alice) == .delivered }
                        }
                        let texts = try await bob.texts(with: "alice")
                        #expect(texts.map(\.body) == ["via storacha"], "exactly once")
                        // A second drain finds nothing.
                        let again = try await StorachaReceiver(directory: directory(bob), logger: quietLogger("sync")).drainAll()
                        #expect(again == StorachaDrainReport())

                        // What the storage provider saw: Alice's deposit signed by the deposit key Bob
                        // gave her, and nowhere (deposits, drains, proof chains, bytes) either PeerID.
                        try await expectNoIdentities(in: seen.requests, alice: alice, bob: bob, contact: contact)
                    }
                }
            }
        }
    }

    @Test("refusals: writes disabled, expired and revoked rights give clear reasons; the message stays queued and goes later")
    func refusalsKeepTheMessage() async throws {
        let clock = TestClock()
        try await withStoracha(clock: clock.function) { storacha in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let alice = try await makeAccount(home: homeA, name: "alice", clock: clock.function)
                    let bob = try await makeAccount(home: homeB, name: "bob", clock: clock.function)
                    try await useSpace(bob, of: storacha)
                    let nodeA = makeMailboxNode(alice)
                    let port = UInt16(try await freePort())
                    try await withRunning([nodeA]) {
                        let nodeB = makeMailboxNode(bob, port: port)
                        try await whileOnline(nodeB) {
                            try await introduce(alice: alice, nodeA: nodeA, bob: bob, nodeB: nodeB)
                            try await grant(from: bob, nodeB: nodeB, to: alice)
                        }
                        let contact = try await alice.contact(named: "bob")

                        // The service refuses writes: an error receipt, named.
                        storacha.server.service.setWritesDisabled(true)
                        let first = try await alice.send("one", to: contact).message.id
                        nodeA.kick()
                        try await until("refused with the service's reason") {
                            try await alice.database.message(id: first)?.error?.contains("ServiceUnavailable") == true
                        }
                        #expect(try await state(of: first, in: alice) == .queued)
                        #expect(try await storacha.listing().isEmpty)

                        // Writes back: the retry deposits it.
                        storacha.server.service.setWritesDisabled(false)
                        nodeA.kick()
                        try await until("stored 1/1 on retry") { try await state(of: first, in: alice) == .stored(copies: 1, total: 1) }

                        // Two days later Bob has not renewed (offline): Alice's rights expired.
                        clock.advance(by: 48 * 3600)
                        let second = try await alice.send("two", to: contact).message.id
                        nodeA.kick()
                        try await until("refused: rights expired") {
                            try await alice.database.message(id: second)?.error?.contains("deposit rights expired") == true
                        }
                        #expect(try await state(of: second, in: alice) == .queued)
                        #expect(try await storacha.listing().count == 1)

                        // Bob comes back: drains "one", renews Alice's rights in session, gets "two" directly.
                        let back = makeMailboxNode(bob, port: port)
                        try await whileOnline(back) {
                            try await until("bob has both") { try await bob.texts(with: "alice").map(\.body) == ["one", "two"] }
                            try await until("the drop is removed") { try await storacha.listing().isEmpty }
                            try await until("alice's rights renewed") {
                                let inbox = try await alice.database.storachaInboxes(contactID: contact.id).first
                                return (inbox?.expiresAt ?? .distantPast) > clock.now
                            }
                            // Revoked: Alice is told inside the session and forgets the space.
                            #expect(try await directory(bob).revoke(try await bob.contact(named: "alice")) == 1)
                            back.kick()
                            try await until("alice forgets bob's space") {
                                try await alice.database.storachaInboxes(contactID: contact.id).isEmpty
                            }
                        }
                        // Bob offline again: no space to deposit in, the message waits for a direct retry.
                        let third = try await alice.send("three", to: contact).message.id
                        nodeA.kick()
                        try await until("deferred as unreachable") {
                            try await alice.database.message(id: third)?.error?.contains("unreachable") == true
                        }
                        #expect(try await state(of: third, in: alice) == .queued)
                        #expect(try await storacha.listing().isEmpty)
                    }
                }
            }
        }
    }
}

/// Checks that Alice deposited with her deposit key and that no request the service received
/// names Alice's or Bob's identity: not as an issuer, audience or resource of any invocation or
/// of any delegation in its proof chain, and not as text or bytes anywhere in the requests.
private func expectNoIdentities(
    in requests: [ConformanceService.ObservedRequest], alice: ChatAccount, bob: ChatAccount, contact: Contact
) async throws {
    let aliceDID = try Signer(identity: alice.identity).did
    let bobDID = try Signer(identity: bob.identity).did
    let identities: Set<DID> = [aliceDID, bobDID]
    let inbox = try #require(try await alice.database.storachaInboxes(contactID: contact.id).first)
    let depositKey = try StorachaDepositKey.signer(stored: inbox.depositKey).did
    let bobAgent = try directory(bob).did()

    let invocations = requests.flatMap(\.invocations)
    let deposits = invocations.filter { $0.ucan.capabilities.first?.can == Ability.spaceBlobAdd }
    #expect(!deposits.isEmpty, "the service saw Alice's space/blob/add")
    for deposit in deposits {
        #expect(deposit.ucan.issuer == depositKey, "deposits are signed with the deposit key")
        #expect(chain(deposit).contains { $0.ucan.issuer == bobAgent && $0.ucan.audience == depositKey }, "Bob's agent delegated to it")
    }
    #expect(invocations.contains { $0.ucan.capabilities.first?.can == Ability.ucanConclude && $0.ucan.issuer == depositKey })
    #expect(requests.contains { $0.method == "PUT" }, "the blob upload was seen too")

    for invocation in invocations {
        for ucan in chain(invocation).map(\.ucan) {
            #expect(!identities.contains(ucan.issuer), "identity as issuer of \(ucan.capabilities.map(\.can))")
            #expect(!identities.contains(ucan.audience), "identity as audience of \(ucan.capabilities.map(\.can))")
            let resources = Set(identities.map(\.string))
            #expect(!ucan.capabilities.contains { resources.contains($0.with) }, "identity as a resource")
        }
    }
    var needles: [(String, [UInt8])] = []
    for (name, account, did) in [("alice", alice, aliceDID), ("bob", bob, bobDID)] {
        needles += [
            ("\(name)'s PeerID text", Array(account.peerID.description.utf8)),
            ("\(name)'s PeerID CID", Array(account.peerID.cidString.utf8)),
            ("\(name)'s PeerID bytes", account.peerID.bytes),
            ("\(name)'s public key", account.identity.publicKey.data),
            ("\(name)'s did:key", Array(did.string.utf8)),
        ]
    }
    #expect(requests.count > 5)
    for request in requests {
        let bytes = request.body + Array(request.path.utf8) + request.headers.flatMap { Array("\($0.name): \($0.value)\n".utf8) }
        for (what, needle) in needles {
            #expect(!contains(bytes, needle), "\(what) in \(request.method) \(request.path)")
        }
    }
}
