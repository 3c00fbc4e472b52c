import Testing
@testable import ChatCrypto
import LibP2P

@Suite struct SessionTests {
    func expectCode(_ code: ChatCryptoError.Code, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(code)")
        } catch let error as ChatCryptoError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: Ciphersuite.allCases) func endToEndAllSuites(suite: Ciphersuite) throws {
        var (alice, bob, aliceSession, bobSession) = try establish(suite: suite)
        #expect(aliceSession.isAwaitingFirstReply)
        let second = try aliceSession.seal(content: alice.content("again", sequence: 2), now: Party.start)
        #expect(second.kind == .preKeyMessage)
        let unsealed = try SessionResponder.unseal(envelope: second, ourPreKeys: bob.preKeys)
        #expect(text(try bobSession.open(preKeyMessage: unsealed, now: Party.start)) == "again")
        let reply = try bobSession.seal(content: bob.content("hi alice"), now: Party.start)
        #expect(reply.kind == .ratchetMessage)
        #expect(text(try aliceSession.open(envelope: try Envelope(parsing: reply.encoded), now: Party.start)) == "hi alice")
        #expect(!aliceSession.isAwaitingFirstReply)
        for round in 0..<3 {
            let a = try aliceSession.seal(content: alice.content("a\(round)"), now: Party.start)
            #expect(a.kind == .ratchetMessage && Envelope.bucketSizes.contains(a.encoded.count))
            #expect(text(try bobSession.open(envelope: a, now: Party.start)) == "a\(round)")
            let b = try bobSession.seal(content: bob.content("b\(round)"), now: Party.start)
            #expect(text(try aliceSession.open(envelope: b, now: Party.start)) == "b\(round)")
        }
        alice.preKeys.removeOneTimePreKey(id: 0)
    }

    @Test func firstMessageReportsOneTimePreKeyAndContent() throws {
        let alice = try Party(), bob = try Party()
        var session = try SessionInitiator.start(
            ourIdentity: alice.identity, ourIdentityDHKey: alice.preKeys.identityDHKey(for: .x25519)!, theirBundle: bob.bundle,
            suite: .x25519, now: Party.start)
        let envelope = try session.seal(content: alice.content("hello"), now: Party.start)
        #expect(envelope.encoded.count == Envelope.smallBucketSize)
        let accepted = try SessionResponder.accept(envelope: envelope, ourIdentity: bob.identity, ourPreKeys: bob.preKeys, now: Party.start)
        let expectedID = bob.bundle.oneTimePreKeys.first { $0.suite == .x25519 }?.id
        #expect(accepted.usedOneTimePreKeyID == expectedID && expectedID != nil)
        #expect(accepted.content.sender == alice.identity.peerID)
        #expect(text(accepted.content) == "hello")
        // Once the store deleted the one-time prekey, the same prekey message is refused.
        var consumed = bob.preKeys
        consumed.removeOneTimePreKey(id: expectedID!)
        expectCode(.unknownPreKey) {
            _ = try SessionResponder.accept(envelope: envelope, ourIdentity: bob.identity, ourPreKeys: consumed, now: Party.start)
        }
    }

    @Test func wrongRecipientFailsClearly() throws {
        let alice = try Party(), bob = try Party(), carol = try Party()
        var session = try SessionInitiator.start(
            ourIdentity: alice.identity, ourIdentityDHKey: alice.preKeys.identityDHKey(for: .p256)!, theirBundle: bob.bundle,
            suite: .p256, now: Party.start)
        let envelope = try session.seal(content: alice.content("for bob"), now: Party.start)
        expectCode(.wrongRecipient) {
            _ = try SessionResponder.accept(envelope: envelope, ourIdentity: carol.identity, ourPreKeys: carol.preKeys, now: Party.start)
        }
        // A ratchet message of another session does not open either.
        var (_, _, _, bobWithAlice) = try establish()
        var (_, carolSide, _, carolWithDave) = try establish()
        _ = bobWithAlice
        let reply = try carolWithDave.seal(content: carolSide.content("x"), now: Party.start)
        expectCode(.headerDecryptionFailed) { _ = try bobWithAlice.open(envelope: reply, now: Party.start) }
    }

    @Test func outOfOrderWithinMaxSkipAndRefusedBeyond() throws {
        var (alice, bob, aliceSession, bobSession) = try establish()
        _ = alice
        var envelopes: [Envelope] = []
        for index in 0..<5 { envelopes.append(try bobSession.seal(content: bob.content("m\(index)"), now: Party.start)) }
        for index in [3, 0, 4, 2, 1] {
            #expect(text(try aliceSession.open(envelope: envelopes[index], now: Party.start)) == "m\(index)")
        }
        // Skipping more than MAX_SKIP in one chain is refused and leaves the state usable.
        var far: Envelope?
        for index in 0...Int(RatchetState.maximumSkip) + 1 {
            let envelope = try bobSession.seal(content: bob.content("far"), now: Party.start)
            if index == Int(RatchetState.maximumSkip) + 1 { far = envelope }
        }
        expectCode(.tooManySkippedMessages) { _ = try aliceSession.open(envelope: far!, now: Party.start) }
        #expect(aliceSession.ratchet.skippedKeys.isEmpty)
    }

    @Test func skippedKeysExpireAfterSevenDays() throws {
        var (_, bob, aliceSession, bobSession) = try establish()
        let early = try bobSession.seal(content: bob.content("early"), now: Party.start)
        let late = try bobSession.seal(content: bob.content("late"), now: Party.start)
        _ = try aliceSession.open(envelope: late, now: Party.start)
        #expect(aliceSession.ratchet.skippedKeys.count == 1)
        var beforeExpiry = aliceSession
        #expect(text(try beforeExpiry.open(envelope: early, now: Party.start + 7 * Party.day - 1)) == "early")
        expectCode(.replayedMessage) { _ = try aliceSession.open(envelope: early, now: Party.start + 7 * Party.day) }
        #expect(aliceSession.ratchet.skippedKeys.isEmpty == false)  // transactional: the failed open kept state
        var moved = aliceSession
        moved.ratchet.expireSkippedKeys(now: Party.start + 7 * Party.day)
        #expect(moved.ratchet.skippedKeys.isEmpty)
    }

    @Test func replaysAreRefused() throws {
        var (_, bob, aliceSession, bobSession) = try establish()
        let first = try bobSession.seal(content: bob.content("one"), now: Party.start)
        let second = try bobSession.seal(content: bob.content("two"), now: Party.start)
        _ = try aliceSession.open(envelope: second, now: Party.start)
        _ = try aliceSession.open(envelope: first, now: Party.start)   // from the skipped keys
        expectCode(.replayedMessage) { _ = try aliceSession.open(envelope: first, now: Party.start) }
        expectCode(.replayedMessage) { _ = try aliceSession.open(envelope: second, now: Party.start) }
    }

    @Test func tamperingIsDetectedWithDistinctCodesAndLeavesStateUnchanged() throws {
        var (_, bob, aliceSession, bobSession) = try establish()
        let envelope = try bobSession.seal(content: bob.content("intact"), now: Party.start)
        let before = aliceSession.serialized()
        var bytes = envelope.encoded
        bytes[2 + 20] ^= 1  // inside the encrypted header
        expectCode(.headerDecryptionFailed) { _ = try aliceSession.open(envelope: try Envelope(parsing: bytes), now: Party.start) }
        bytes = envelope.encoded
        bytes[bytes.count - 40] ^= 1  // inside the body
        expectCode(.decryptionFailed) { _ = try aliceSession.open(envelope: try Envelope(parsing: bytes), now: Party.start) }
        bytes = envelope.encoded
        bytes[1] = Envelope.Kind.preKeyMessage.rawValue  // outer header is authenticated
        expectCode(.invalidState) { _ = try aliceSession.open(envelope: try Envelope(parsing: bytes), now: Party.start) }
        expectCode(.truncated) { _ = try Envelope(parsing: Array(envelope.encoded.dropLast(1))) }
        expectCode(.unsupportedVersion) { _ = try Envelope(parsing: [2] + envelope.encoded.dropFirst()) }
        // Tampered AD: a session with different associated data (other identity binding) fails.
        var otherAD = aliceSession
        otherAD = Session(
            role: otherAD.role, localPeerID: otherAD.localPeerID, remotePeerID: otherAD.remotePeerID, baseKey: otherAD.baseKey,
            associatedData: otherAD.associatedData.reversed(), ratchet: otherAD.ratchet, pendingPreKey: otherAD.pendingPreKey)
        expectCode(.headerDecryptionFailed) { _ = try otherAD.open(envelope: envelope, now: Party.start) }
        #expect(aliceSession.serialized() == before)
        #expect(text(try aliceSession.open(envelope: envelope, now: Party.start)) == "intact")
    }

    @Test func downgradingTheSuiteByteBreaksDecryption() throws {
        let alice = try Party(), bob = try Party()
        var session = try SessionInitiator.start(
            ourIdentity: alice.identity, ourIdentityDHKey: alice.preKeys.identityDHKey(for: .x25519MLKEM768)!, theirBundle: bob.bundle,
            suite: .x25519MLKEM768, now: Party.start)
        let envelope = try session.seal(content: alice.content("pq"), now: Party.start)
        let message = try SessionResponder.unseal(envelope: envelope, ourPreKeys: bob.preKeys)
        // An attacker who could rewrite the suite to 0x01 (same curve), dropping the KEM term:
        let downgraded = PreKeyMessage(
            suite: .x25519, identityKey: message.identityKey, identityDHKey: message.identityDHKey,
            identityDHKeyCreatedAt: message.identityDHKeyCreatedAt, identityBindingSignature: message.identityBindingSignature,
            baseKey: message.baseKey, signedPreKeyID: message.signedPreKeyID, oneTimePreKeyID: nil, kemPreKeyID: nil,
            kemCiphertext: nil, replyAddress: message.replyAddress, ratchetMessage: message.ratchetMessage)
        do {
            _ = try SessionResponder.accept(preKeyMessage: downgraded, ourIdentity: bob.identity, ourPreKeys: bob.preKeys, now: Party.start)
            Issue.record("downgraded prekey message was accepted")
        } catch let error as ChatCryptoError {
            #expect([.invalidSignature, .unknownPreKey, .headerDecryptionFailed].contains(error.code), "\(error)")
        }
        // The genuine one is accepted.
        _ = try SessionResponder.accept(preKeyMessage: message, ourIdentity: bob.identity, ourPreKeys: bob.preKeys, now: Party.start)
        // Ratchet level: same keys, different suite byte in the AD and KDF infos → no decryption.
        var random = SystemRandomSource()
        let key = DHPrivateKey.generate(curve: .x25519)
        var sender = try RatchetState(
            initiatorWithSuite: .x25519, sharedSecret: [UInt8](repeating: 1, count: 32), remoteRatchetKey: key.publicKey,
            sharedHeaderKey: [UInt8](repeating: 2, count: 32), sharedNextHeaderKey: [UInt8](repeating: 3, count: 32), random: &random)
        var receiver = RatchetState(
            responderWithSuite: .x25519MLKEM768, sharedSecret: [UInt8](repeating: 1, count: 32), ourRatchetKey: key,
            sharedHeaderKey: [UInt8](repeating: 2, count: 32), sharedNextHeaderKey: [UInt8](repeating: 3, count: 32))
        let wire = try sender.encrypt([1, 2, 3], associatedData: [], random: &random)
        expectCode(.headerDecryptionFailed) { _ = try receiver.decrypt(wire, associatedData: [], now: 0, random: &random) }
    }

    @Test func bundleTamperingAndExpiryAreRejected() throws {
        let bob = try Party()
        let encoded = bob.bundle.encoded
        try PreKeyBundle(parsing: encoded).verify(now: Party.start)
        #expect(try PreKeyBundle(parsing: encoded) == bob.bundle)
        var failures = 0
        for index in stride(from: 0, to: encoded.count, by: 7) {
            var bytes = encoded
            bytes[index] ^= 0x01
            do {
                try PreKeyBundle(parsing: bytes).verify(now: Party.start)
            } catch {
                failures += 1
            }
        }
        #expect(failures == (encoded.count + 6) / 7)
        expectCode(.expired) { try bob.bundle.verify(now: bob.bundle.expiresAt) }
        expectCode(.truncated) { _ = try PreKeyBundle(parsing: Array(encoded.dropLast(1))) }
        // A bundle signed by someone else for Bob's PeerID.
        let mallory = IdentityKeyPair.generate()
        let forged = try PreKeyBundle.make(
            identity: mallory, preKeys: bob.preKeys, deviceID: [UInt8](repeating: 1, count: 16), sequence: 2,
            createdAt: Party.start, expiresAt: Party.start + Party.day)
        var bytes = forged.encoded
        let malloryPeer = mallory.peerID.bytes, bobPeer = bob.identity.peerID.bytes
        let offset = 1 + 2 + mallory.publicKey.protobufBytes.count + 1
        #expect(Array(bytes[offset..<offset + malloryPeer.count]) == malloryPeer)
        bytes.replaceSubrange(offset..<offset + malloryPeer.count, with: bobPeer)
        expectCode(.peerIDMismatch) { try PreKeyBundle(parsing: bytes).verify(now: Party.start) }
        // Expired signed prekey: initiators refuse it.
        let alice = try Party()
        expectCode(.expired) {
            _ = try SessionInitiator.start(
                ourIdentity: alice.identity, ourIdentityDHKey: alice.preKeys.identityDHKey(for: .x25519)!, theirBundle: bob.bundle,
                suite: .x25519, now: Party.start + 8 * Party.day)
        }
    }

    @Test func serializationRoundTripThenContinue() throws {
        var (alice, bob, aliceSession, bobSession) = try establish(suite: .p256)
        let pending = try bobSession.seal(content: bob.content("skipped"), now: Party.start)
        _ = try aliceSession.open(envelope: try bobSession.seal(content: bob.content("x"), now: Party.start), now: Party.start)
        var restoredAlice = try Session(serialized: aliceSession.serialized())
        var restoredBob = try Session(serialized: bobSession.serialized())
        #expect(restoredAlice.serialized() == aliceSession.serialized())
        #expect(restoredAlice.suite == .p256 && restoredAlice.remotePeerID == bob.identity.peerID)
        #expect(text(try restoredAlice.open(envelope: pending, now: Party.start)) == "skipped")
        let next = try restoredAlice.seal(content: alice.content("after restore"), now: Party.start)
        #expect(text(try restoredBob.open(envelope: next, now: Party.start)) == "after restore")
        // Restored initiator that had not been answered still sends prekey messages.
        let fresh = try establish()
        let restoredInitiator = try Session(serialized: fresh.aliceSession.serialized())
        #expect(restoredInitiator.isAwaitingFirstReply)
        expectCode(.truncated) { _ = try Session(serialized: Array(aliceSession.serialized().dropLast(3))) }
    }

    @Test func forwardSecrecyOldMessageKeysAreGone() throws {
        var (_, bob, aliceSession, bobSession) = try establish()
        let old = try bobSession.seal(content: bob.content("secret"), now: Party.start)
        _ = try aliceSession.open(envelope: old, now: Party.start)
        // Whoever steals Alice's state now cannot read the old message.
        var stolen = try Session(serialized: aliceSession.serialized())
        expectCode(.replayedMessage) { _ = try stolen.open(envelope: old, now: Party.start) }
        #expect(stolen.ratchet.skippedKeys.isEmpty)
        // Deriving forward from the stolen chain key never yields the used message key.
        var chain = try #require(stolen.ratchet.receivingChainKey)
        var random = SystemRandomSource()
        for _ in 0..<10 {
            let step = KeyDerivation.chainStep(chainKey: chain)
            chain = step.chainKey
            var probe = stolen.ratchet
            #expect((try? probe.decrypt(old.ciphertext, associatedData: stolen.associatedData + [1, 2], now: 0, random: &random)) == nil)
        }
    }

    @Test func postCompromiseSecurityHealsAfterRoundTrip() throws {
        var (alice, bob, aliceSession, bobSession) = try establish()
        _ = try aliceSession.open(envelope: try bobSession.seal(content: bob.content("r"), now: Party.start), now: Party.start)
        var attacker = try Session(serialized: bobSession.serialized())   // compromise Bob
        // While nothing changed, the attacker reads Alice's next message: the test can fail.
        let observed = try aliceSession.seal(content: alice.content("seen"), now: Party.start)
        #expect(text(try attacker.open(envelope: observed, now: Party.start)) == "seen")
        _ = try bobSession.open(envelope: observed, now: Party.start)
        // A round trip with fresh DH ratchet keys on both sides heals the session.
        _ = try aliceSession.open(envelope: try bobSession.seal(content: bob.content("b"), now: Party.start), now: Party.start)
        let healed = try aliceSession.seal(content: alice.content("private again"), now: Party.start)
        #expect(text(try bobSession.open(envelope: healed, now: Party.start)) == "private again")
        #expect(throws: ChatCryptoError.self) { _ = try attacker.open(envelope: healed, now: Party.start) }
    }

    @Test func oversizedContentIsRefusedAndBucketsGrow() throws {
        var (alice, _, aliceSession, _) = try establish()
        var sizes: [Int] = []
        for length in [10, 3000, 10_000, 60_000] {
            var content = try alice.content("")
            content.body = [UInt8](repeating: 0x41, count: length)
            sizes.append(try aliceSession.seal(content: content, now: Party.start).encoded.count)
        }
        #expect(sizes == Envelope.bucketSizes)
        var huge = try alice.content("")
        huge.body = [UInt8](repeating: 0, count: Envelope.maximumBucketSize)
        expectCode(.messageTooLarge) { _ = try aliceSession.seal(content: huge, now: Party.start) }
    }

    @Test func plainContentRoundTripAndPadding() throws {
        let alice = try Party()
        var content = try alice.content("body")
        content.replyTo = [UInt8](repeating: 5, count: 16)
        content.kind = ContentKind(rawValue: 0x42)
        #expect(try PlainContent(parsing: content.encoded) == content)
        let padded = Padding.pad(content.encoded, to: 300)
        #expect(padded.count == 300 && padded[content.encoded.count] == 0x80)
        #expect(try Padding.unpad(padded) == content.encoded)
        expectCode(.malformedInput) { _ = try Padding.unpad([1, 2, 0, 0]) }
        expectCode(.truncated) { _ = try PlainContent(parsing: Array(content.encoded.dropLast())) }
    }
}
