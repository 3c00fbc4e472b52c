import LibP2P
import Multiformats
import Testing

@testable import IPFS

@Suite struct BitswapSessionStateTests {
    let alice = IdentityKeyPair.generate().peerID
    let bob = IdentityKeyPair.generate().peerID
    func cid(_ n: Int) -> CID { CID.v1(codec: .raw, multihash: .sha256(Array(String(n).utf8))) }

    @Test func pipelinesUpToTheLimitAcrossPeers() {
        var state = BitswapSessionState(peers: [alice, bob], options: .init(maxWantsInFlight: 8))
        for n in 0..<20 { state.want(cid(n)) }
        let now = ContinuousClock.now
        let requests = state.schedule(now: now)
        #expect(requests.values.map(\.count).reduce(0, +) == 8)
        #expect(requests[alice]?.count == 4)
        #expect(requests[bob]?.count == 4)
        #expect(state.schedule(now: now).isEmpty)
        let first = requests[alice]![0]
        #expect(state.receivedBlock(first, size: 10, from: alice) == .accepted)
        #expect(state.receivedBlock(first, size: 10, from: bob) == .duplicate)
        #expect(state.schedule(now: now).values.map(\.count).reduce(0, +) == 1)
        #expect(state.blocksReceived == 1)
        #expect(!state.isComplete)
    }

    @Test func blocksWaitingForTheStoreHoldBackNewWantsAndCompletion() {
        var state = BitswapSessionState(peers: [alice], options: .init(maxWantsInFlight: 2, maxUncommittedBytes: 100))
        for n in 0..<4 { state.want(cid(n)) }
        let now = ContinuousClock.now
        let first = state.schedule(now: now)[alice]!
        for cid in first { #expect(state.receivedBlock(cid, size: 60, from: alice) == .accepted) }
        state.storing(bytes: 120)
        // 120 bytes wait for their commit, over the bound of 100: nothing new goes out.
        #expect(state.schedule(now: now).isEmpty)
        state.committed(bytes: 120)
        let second = state.schedule(now: now)[alice]!
        #expect(second.count == 2)
        for cid in second { #expect(state.receivedBlock(cid, size: 10, from: alice) == .accepted) }
        state.storing(bytes: 20)
        // Every block arrived, but the fetch is complete only once the last batch is stored.
        #expect(!state.isComplete)
        state.committed(bytes: 20)
        #expect(state.isComplete)
        #expect(state.uncommittedBytes == 0)
    }

    @Test func dontHaveMovesTheWantAndAllDontHaveFails() {
        var state = BitswapSessionState(peers: [alice, bob])
        state.want(cid(1))
        let now = ContinuousClock.now
        let first = state.schedule(now: now)
        let asked = first.keys.first!
        let other = asked == alice ? bob : alice
        state.receivedDontHave(cid(1), from: asked)
        #expect(state.schedule(now: now) == [other: [cid(1)]])
        state.receivedDontHave(cid(1), from: other)
        _ = state.schedule(now: now)
        #expect(state.failure?.code == .blockNotFound)
    }

    @Test func timeoutsReRequestElsewhereThenGiveUp() {
        var state = BitswapSessionState(peers: [alice, bob], options: .init(wantTimeout: .seconds(5), maxAttemptsPerPeer: 1))
        state.want(cid(1))
        let start = ContinuousClock.now
        let asked = state.schedule(now: start).keys.first!
        #expect(state.expire(now: start + .seconds(1)).isEmpty)
        #expect(state.expire(now: start + .seconds(6)) == [asked: [cid(1)]])
        let second = state.schedule(now: start + .seconds(6))
        #expect(second.keys.first != asked)
        _ = state.expire(now: start + .seconds(12))
        _ = state.schedule(now: start + .seconds(12))
        #expect(state.failure?.code == .timeout)
    }

    @Test func unrequestedBlocksAreStrikesThatDropThePeer() {
        var state = BitswapSessionState(peers: [alice, bob], options: .init(maxStrikes: 2))
        state.want(cid(1))
        let requests = state.schedule(now: .now)
        let liar = requests.keys.first!
        #expect(state.receivedBlock(cid(99), size: 1, from: liar) == .unrequested)
        #expect(!state.droppedPeers.contains(liar))
        // Blocks another session wants are not strikes.
        #expect(state.receivedBlock(cid(98), size: 1, from: liar, wantedElsewhere: true) == .unrequested)
        #expect(state.strikeCount(of: liar) == 1)
        #expect(state.receivedBlock(cid(97), size: 1, from: liar) == .unrequested)
        #expect(state.droppedPeers.contains(liar))
        // Its want went back to the queue and now goes to the honest peer.
        let honest = liar == alice ? bob : alice
        #expect(state.schedule(now: .now) == [honest: [cid(1)]])
        #expect(state.receivedBlock(cid(1), size: 1, from: honest) == .accepted)
        #expect(state.isComplete)
    }
}
