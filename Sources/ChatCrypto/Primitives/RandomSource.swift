import Crypto

/// Where randomness comes from: the system by default, fixed values in known-answer tests.
///
/// Internal so that production code cannot swap it; tests use `@testable import`.
protocol RandomSource {
    /// `count` random bytes (nonces, message ids).
    mutating func bytes(count: Int) -> [UInt8]
    /// A fresh DH private key (ratchet and ephemeral keys).
    mutating func makeDHPrivateKey(curve: DHCurve) -> DHPrivateKey
}

/// The operating system's CSPRNG and swift-crypto key generation.
struct SystemRandomSource: RandomSource {
    func bytes(count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { out.append(contentsOf: $0) }
        }
        out.removeLast(out.count - count)
        return out
    }

    func makeDHPrivateKey(curve: DHCurve) -> DHPrivateKey {
        DHPrivateKey.generate(curve: curve)
    }
}
