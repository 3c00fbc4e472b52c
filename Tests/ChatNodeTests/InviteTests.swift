import ChatStore
import Foundation
import LibP2P
import Multiformats
import Testing

@testable import ChatNode

@Suite("Invites")
struct InviteTests {
    @Test("round trip: the text form parses back to the same signed invite")
    func roundTrip() async throws {
        try await withTemporaryHome { home in
            let account = try await makeAccount(home: home, name: "alice")
            let address = try Multiaddr("/ip4/127.0.0.1/tcp/4001")
            let invite = try await account.makeInvite(addresses: [address])
            #expect(invite.text.hasPrefix("p2pchat:"))
            #expect(!invite.text.contains { $0.isWhitespace })
            let parsed = try Invite(text: invite.text, nowMilliseconds: invite.createdAtMilliseconds)
            #expect(parsed == invite)
            #expect(parsed.peerID == account.peerID)
            #expect(parsed.addresses == [address])
            #expect(parsed.mailboxes.isEmpty)
            // Two invites never share one-time prekeys.
            let second = try await account.makeInvite(addresses: [address])
            #expect(second.prekeyBundle != invite.prekeyBundle)
        }
    }

    @Test("a flipped byte anywhere is rejected")
    func tamperedRejected() async throws {
        try await withTemporaryHome { home in
            let account = try await makeAccount(home: home, name: "alice")
            let invite = try await account.makeInvite(addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/4001")])
            let binary = invite.binary
            for index in stride(from: 0, to: binary.count, by: max(1, binary.count / 97)) {
                var tampered = binary
                tampered[index] ^= 0x01
                let text = Invite.textPrefix + Multibase.encode(tampered, as: .base64url)
                #expect(throws: ChatNodeError.self) { try Invite(text: text, nowMilliseconds: invite.createdAtMilliseconds) }
            }
            // A well-formed change of a signed field fails the signature check specifically.
            var rewritten = binary
            let portIndex = try #require(Self.range(of: [0x06, 0x0f, 0xa1], in: rewritten))  // tcp (0x06) port 4001 = 0x0fa1
            rewritten[portIndex + 2] = 0xa2
            let error = #expect(throws: ChatNodeError.self) {
                try Invite(text: Invite.textPrefix + Multibase.encode(rewritten, as: .base64url), nowMilliseconds: invite.createdAtMilliseconds)
            }
            #expect(error?.code == .invalidInvite)
        }
    }

    @Test("an expired invite is rejected, by the parser and by contacts add")
    func expiredRejected() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let clock = TestClock()
                let alice = try await makeAccount(home: homeA, name: "alice", clock: clock.function)
                let bob = try await makeAccount(home: homeB, name: "bob", clock: clock.function)
                let invite = try await alice.makeInvite(addresses: [], lifetime: .seconds(3600))
                clock.advance(by: 3601)
                let error = #expect(throws: ChatNodeError.self) { try bob.parseInvite(invite.text) }
                #expect(error?.code == .expiredInvite)
                let addError = await #expect(throws: ChatNodeError.self) { try await bob.addContact(invite: invite, name: "alice") }
                #expect(addError?.code == .expiredInvite)
                #expect(try await bob.database.contacts().isEmpty)
            }
        }
    }

    @Test("adding a contact starts a session and queues our hello")
    func addContactStartsSession() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                let alice = try await makeAccount(home: homeA, name: "alice")
                let bob = try await makeAccount(home: homeB, name: "bob")
                let invite = try await alice.makeInvite(addresses: [try Multiaddr("/ip4/127.0.0.1/tcp/4001")])
                let contact = try await bob.addContact(invite: try bob.parseInvite(invite.text), name: "Alice")
                #expect(contact.peerID == alice.peerID)
                #expect(contact.addresses == [try Multiaddr("/ip4/127.0.0.1/tcp/4001")])
                #expect(try await bob.database.loadSession(contactID: contact.id)?.version == 1)
                let queued = try await bob.database.dueOutbox(now: .distantFuture)
                #expect(queued.map(\.message.kind) == [.control])
                #expect(try ProfileContent(parsing: queued[0].message.body).name == "bob")
                // Adding the same person again is refused; our own invite too.
                await #expect(throws: ChatNodeError.self) { try await bob.addContact(invite: invite, name: "alice2") }
                let own = try await bob.makeInvite(addresses: [])
                await #expect(throws: ChatNodeError.self) { try await bob.addContact(invite: own, name: "me") }
            }
        }
    }

    static func range(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
