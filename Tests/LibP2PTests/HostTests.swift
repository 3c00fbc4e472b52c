import LibP2P
import Logging
import Multiformats
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Two real hosts on loopback TCP: the whole stack (TCP, multistream-select, Noise, Yamux,
/// Identify, Ping) end to end, and the host's behaviour under bad input.
@Suite struct HostTests {
    /// A running host and the task that runs it.
    final class RunningHost: Sendable {
        let host: LibP2P.Host
        let address: Multiaddr
        private let task: Task<Void, Never>

        init(configure: (inout HostConfiguration) -> Void = { _ in }, echo: [String] = []) async throws {
            var configuration = HostConfiguration(identity: .generate())
            configure(&configuration)
            var logger = Logger(label: "test.host")
            logger.logLevel = .error
            let host = LibP2P.Host(configuration: configuration, logger: logger)
            for protocolID in echo {
                host.setHandler(for: protocolID) { incoming in
                    while let chunk = try await incoming.stream.read() { try await incoming.stream.write(chunk) }
                    try await incoming.stream.closeWrite()
                }
            }
            self.host = host
            self.task = Task { await host.run() }
            self.address = try #require(try await host.listen(on: Multiaddr("/ip4/127.0.0.1/tcp/0")).first)
        }

        func stop() async {
            await host.shutdown()
            await task.value
        }

        var tcpPort: Int {
            for component in address.components { if case .tcp(let port) = component { return Int(port) } }
            return 0
        }
    }

    @Test func dialPingAndIdentifyBothWays() async throws {
        let alice = try await RunningHost(echo: ["/test/echo/1.0.0"])
        let bob = try await RunningHost()
        let bobEvents = bob.host.events()
        let connection = try await bob.host.dial(alice.address)
        #expect(connection.remotePeer == alice.host.peerID)

        let ping = try await connection.newStream(protocols: [Ping.protocolID])
        let rtt = try await Ping.ping(on: ping.stream)
        #expect(rtt > .zero)

        // Bob learns Alice's protocols and agent through Identify.
        let identified = try await IdentifyService.identify(connection, host: bob.host)
        #expect(identified.message.protocols.contains("/test/echo/1.0.0"))
        #expect(identified.message.protocols.contains(Ping.protocolID))
        #expect(identified.message.agentVersion == "p2pchat/0.1.0")
        #expect(identified.listenAddresses.contains(alice.address.removingPeerID()))
        #expect(bob.host.peerStore.record(for: alice.host.peerID)?.protocols.contains("/test/echo/1.0.0") == true)

        // Alice identifies Bob automatically on the inbound connection.
        var sawConnected = false
        for await event in bobEvents {
            if case .connected(let peer, _, _) = event, peer == alice.host.peerID { sawConnected = true }
            if case .identified(let peer) = event, peer == alice.host.peerID { break }
        }
        #expect(sawConnected)
        await bob.stop()
        await alice.stop()
    }

    @Test func newProtocolsReachConnectedPeersByIdentifyPush() async throws {
        let alice = try await RunningHost()
        let bob = try await RunningHost()
        let bobEvents = bob.host.events()
        _ = try await bob.host.dial(alice.address)
        for await event in bobEvents {
            if case .identified(let peer) = event, peer == alice.host.peerID { break }
        }
        #expect(bob.host.peerStore.record(for: alice.host.peerID)?.protocols.contains("/late/1.0.0") == false)
        alice.host.setHandler(for: "/late/1.0.0") { _ in }
        for await event in bobEvents {
            if case .identified(let peer) = event, peer == alice.host.peerID { break }
        }
        #expect(bob.host.peerStore.record(for: alice.host.peerID)?.protocols.contains("/late/1.0.0") == true)
        await bob.stop()
        await alice.stop()
    }

    @Test func carries16MiBEachWayByteExact() async throws {
        let alice = try await RunningHost(echo: ["/test/echo/1.0.0"])
        let bob = try await RunningHost()
        let connection = try await bob.host.dial(alice.address)
        let negotiated = try await connection.newStream(protocols: ["/test/echo/1.0.0"])
        var generator = SystemRandomNumberGenerator()
        let size = 16 << 20
        var payload = ByteBuffer()
        payload.reserveCapacity(size)
        for _ in 0..<(size / 8) { payload.writeInteger(generator.next() as UInt64) }
        let sent = payload
        let stream = negotiated.stream
        async let writer: Void = {
            var remaining = sent
            while remaining.readableBytes > 0 {
                try await stream.write(remaining.readSlice(length: min(1 << 18, remaining.readableBytes))!)
            }
            try await stream.closeWrite()
        }()
        var received = ByteBuffer()
        while var chunk = try await stream.read() { received.writeBuffer(&chunk) }
        try await writer
        #expect(received.readableBytes == size)
        #expect(received == sent)
        await bob.stop()
        await alice.stop()
    }

    @Test func refusesAPeerThatIsNotTheOneDialed() async throws {
        let alice = try await RunningHost()
        let bob = try await RunningHost()
        let impostorTarget = alice.address.removingPeerID().appending(.p2p(IdentityKeyPair.generate().peerID.multihash))
        await #expect {
            _ = try await bob.host.dial(impostorTarget)
        } throws: { error in
            (error as? LibP2PError)?.code == .peerIDMismatch
        }
        #expect(bob.host.connections.isEmpty)
        await bob.stop()
        await alice.stop()
    }

    @Test func unknownProtocolIsRefusedAndTheConnectionSurvives() async throws {
        let alice = try await RunningHost()
        let bob = try await RunningHost()
        let connection = try await bob.host.dial(alice.address)
        await #expect {
            _ = try await connection.newStream(protocols: ["/nobody/serves/this"])
        } throws: { error in
            (error as? LibP2PError)?.code == .protocolNotSupported
        }
        let ping = try await connection.newStream(protocols: [Ping.protocolID])
        _ = try await Ping.ping(on: ping.stream)
        await bob.stop()
        await alice.stop()
    }

    /// Raw bytes sent to the listener; each must make the host close that connection only.
    static let hostileOpenings: [(String, [UInt8])] = {
        func token(_ text: String) -> [UInt8] {
            let body = Array(text.utf8) + [0x0a]
            return [UInt8(body.count)] + body
        }
        let header = token("/multistream/1.0.0")
        return [
            ("garbage", Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
            ("truncated header", Array(header.prefix(7))),
            ("oversized varint length", header + [0xff, 0xff, 0xff, 0xff, 0x0f]),
            ("garbage noise message", header + token("/noise") + [0x00, 0x20] + Array(repeating: 0xAB, count: 32)),
            ("truncated noise frame", header + token("/noise") + [0xff, 0xff, 0x01, 0x02]),
        ]
    }()

    @Test(arguments: hostileOpenings.indices)
    func badInputClosesOnlyThatConnection(index: Int) async throws {
        let (name, bytes) = Self.hostileOpenings[index]
        let alice = try await RunningHost { $0.handshakeTimeout = .seconds(2) }
        let raw = try await TCPTransport().dial(host: "127.0.0.1", port: alice.tcpPort)
        try await raw.write(ByteBuffer(bytes: bytes))
        if name.hasPrefix("truncated") { try await raw.closeWrite() }
        // The host answers at most its multistream messages, then closes: we read to EOF.
        var total = 0
        while let chunk = try? await raw.read() { total += chunk.readableBytes }
        #expect(total < 1024, "\(name): the host kept talking")
        await raw.close()

        // The host still serves everyone else.
        let bob = try await RunningHost()
        let connection = try await bob.host.dial(alice.address)
        let ping = try await connection.newStream(protocols: [Ping.protocolID])
        _ = try await Ping.ping(on: ping.stream)
        await bob.stop()
        await alice.stop()
    }

    @Test func silentPeerIsDroppedAfterTheHandshakeTimeout() async throws {
        let alice = try await RunningHost { $0.handshakeTimeout = .milliseconds(300) }
        let raw = try await TCPTransport().dial(host: "127.0.0.1", port: alice.tcpPort)
        // Say nothing: the host must give up on us and close.
        while (try? await raw.read()) != nil {}
        await raw.close()
        await alice.stop()
    }

    @Test func connectionLimitRefusesExtraPeers() async throws {
        let alice = try await RunningHost { $0.maxConnections = 1 }
        let bob = try await RunningHost()
        let carol = try await RunningHost()
        _ = try await bob.host.dial(alice.address)
        // Wait until Alice has registered Bob's connection.
        while alice.host.connections.isEmpty { await Task.yield() }
        await #expect(throws: LibP2PError.self) {
            _ = try await carol.host.dial(alice.address)
        }
        await carol.stop()
        await bob.stop()
        await alice.stop()
    }
}
