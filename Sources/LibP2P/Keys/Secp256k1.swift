import BigInt
import Foundation

/// secp256k1 arithmetic for libp2p `Secp256k1` keys: point (de)compression and ECDSA
/// verification over SHA-256 digests (libp2p specs `peer-ids/peer-ids.md` §Secp256k1; curve
/// parameters from SEC 2 v2 §2.4.1).
///
/// swift-crypto has no secp256k1, so this is written here on top of attaswift BigInt. Only the
/// public operations are needed (we never sign with secp256k1), so constant time is not a goal:
/// every input is public (keys, signatures, digests). The one private operation,
/// `publicKey(privateScalar:)`, exists only to check the spec's private-key vector.
enum Secp256k1 {
    /// Field prime p = 2^256 − 2^32 − 977.
    static let p = BigUInt("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f", radix: 16)!
    /// Group order n.
    static let n = BigUInt("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", radix: 16)!
    /// Base point G.
    static let g = Point(
        x: BigUInt("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", radix: 16)!,
        y: BigUInt("483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8", radix: 16)!
    )
    /// Curve constant b in y² = x³ + b.
    static let b = BigUInt(7)

    /// Length of a compressed SEC 1 point: a 0x02/0x03 prefix and the 32-byte x coordinate.
    static let compressedPointLength = 33
    /// Length of a field element or scalar in bytes.
    static let scalarLength = 32
    /// Longest DER ECDSA signature: two 33-byte INTEGERs with headers inside a SEQUENCE.
    static let maximumDERSignatureLength = 72

    /// An affine point on the curve (never the point at infinity).
    struct Point: Hashable, Sendable {
        var x: BigUInt
        var y: BigUInt
    }

    /// Decodes a 33-byte compressed point (SEC 1 §2.3.4), refusing x ≥ p and x values with no
    /// point on the curve.
    static func decompress(_ bytes: [UInt8]) throws -> Point {
        guard bytes.count == compressedPointLength, bytes[0] == 0x02 || bytes[0] == 0x03 else {
            throw LibP2PError(.malformedInput, "secp256k1: public key is not a 33-byte compressed point")
        }
        let x = BigUInt(Data(bytes[1...]))
        guard x < p else {
            throw LibP2PError(.malformedInput, "secp256k1: x coordinate out of range")
        }
        let rhs = (x.power(3, modulus: p) + b) % p
        // p ≡ 3 (mod 4), so a square root of rhs, if one exists, is rhs^((p+1)/4).
        var y = rhs.power((p + 1) / 4, modulus: p)
        guard (y * y) % p == rhs else {
            throw LibP2PError(.malformedInput, "secp256k1: x coordinate is not on the curve")
        }
        let wantOdd = bytes[0] == 0x03
        if (y % 2 == 1) != wantOdd { y = (p - y) % p }
        return Point(x: x, y: y)
    }

    /// Encodes a point in 33-byte compressed form (SEC 1 §2.3.3).
    static func compress(_ point: Point) -> [UInt8] {
        [point.y % 2 == 1 ? 0x03 : 0x02] + fixedWidth(point.x)
    }

    /// The public point d·G for a 32-byte big-endian private scalar 1 ≤ d < n.
    static func publicKey(privateScalar bytes: [UInt8]) throws -> Point {
        guard bytes.count == scalarLength else {
            throw LibP2PError(.malformedInput, "secp256k1: private key is not 32 bytes")
        }
        let d = BigUInt(Data(bytes))
        guard d > 0, d < n else {
            throw LibP2PError(.malformedInput, "secp256k1: private scalar out of range")
        }
        guard let point = multiply(d, g).affine else {
            throw LibP2PError(.malformedInput, "secp256k1: private scalar gives the point at infinity")
        }
        return point
    }

    /// Verifies a DER-encoded ECDSA signature over a 32-byte SHA-256 digest (SEC 1 §4.1.4).
    ///
    /// Returns `false` for malformed DER, r or s outside [1, n−1], or a mismatch. High-s
    /// signatures are accepted, as go-libp2p (dcrd secp256k1) does.
    static func isValidSignature(der: [UInt8], digest: [UInt8], publicKey q: Point) -> Bool {
        guard digest.count == scalarLength, let (r, s) = parseDERSignature(der) else { return false }
        guard r > 0, r < n, s > 0, s < n, let w = s.inverse(n) else { return false }
        let z = BigUInt(Data(digest)) % n
        let u1 = (z * w) % n
        let u2 = (r * w) % n
        guard let point = multiplyAdd(u1, g, u2, q).affine else { return false }
        return point.x % n == r
    }

    /// Parses strict DER `SEQUENCE { INTEGER r, INTEGER s }` (X.690 §8.3: minimal, positive).
    static func parseDERSignature(_ der: [UInt8]) -> (BigUInt, BigUInt)? {
        guard der.count >= 8, der.count <= maximumDERSignatureLength,
              der[0] == 0x30, Int(der[1]) == der.count - 2 else { return nil }
        var offset = 2
        func integer() -> BigUInt? {
            guard offset + 2 <= der.count, der[offset] == 0x02 else { return nil }
            let length = Int(der[offset + 1])
            offset += 2
            guard length >= 1, length <= scalarLength + 1, offset + length <= der.count else { return nil }
            let body = der[offset..<offset + length]
            offset += length
            // Negative numbers and non-minimal encodings are not DER.
            if body[body.startIndex] & 0x80 != 0 { return nil }
            if length > 1, body[body.startIndex] == 0, body[body.startIndex + 1] & 0x80 == 0 { return nil }
            return BigUInt(Data(body))
        }
        guard let r = integer(), let s = integer(), offset == der.count else { return nil }
        return (r, s)
    }

    static func fixedWidth(_ value: BigUInt) -> [UInt8] {
        let bytes = [UInt8](value.serialize())
        return [UInt8](repeating: 0, count: max(0, scalarLength - bytes.count)) + bytes
    }

    // MARK: - Jacobian arithmetic (a = 0); (X, Y, Z) represents (X/Z², Y/Z³), Z = 0 is infinity.

    struct Jacobian {
        var x: BigUInt
        var y: BigUInt
        var z: BigUInt

        static let infinity = Jacobian(x: 1, y: 1, z: 0)

        init(x: BigUInt, y: BigUInt, z: BigUInt) {
            self.x = x
            self.y = y
            self.z = z
        }

        init(_ point: Point) {
            self.init(x: point.x, y: point.y, z: 1)
        }

        var isInfinity: Bool { z.isZero }

        var affine: Point? {
            guard !isInfinity, let zInverse = z.inverse(p) else { return nil }
            let z2 = (zInverse * zInverse) % p
            let z3 = (z2 * zInverse) % p
            return Point(x: (x * z2) % p, y: (y * z3) % p)
        }
    }

    private static func sub(_ a: BigUInt, _ b: BigUInt) -> BigUInt {
        a >= b ? a - b : a + p - b
    }

    /// dbl-2009-l from the Explicit-Formulas Database.
    static func double(_ point: Jacobian) -> Jacobian {
        if point.isInfinity || point.y.isZero { return .infinity }
        let a = (point.x * point.x) % p
        let bb = (point.y * point.y) % p
        let c = (bb * bb) % p
        let xb = (point.x + bb) % p
        let d = (2 * sub(sub((xb * xb) % p, a), c)) % p
        let e = (3 * a) % p
        let f = (e * e) % p
        let x3 = sub(f, (2 * d) % p)
        let y3 = sub((e * sub(d, x3)) % p, (8 * c) % p)
        let z3 = (2 * point.y * point.z) % p
        return Jacobian(x: x3, y: y3, z: z3)
    }

    /// add-2007-bl from the Explicit-Formulas Database, with the doubling and inverse cases.
    static func add(_ lhs: Jacobian, _ rhs: Jacobian) -> Jacobian {
        if lhs.isInfinity { return rhs }
        if rhs.isInfinity { return lhs }
        let z1z1 = (lhs.z * lhs.z) % p
        let z2z2 = (rhs.z * rhs.z) % p
        let u1 = (lhs.x * z2z2) % p
        let u2 = (rhs.x * z1z1) % p
        let s1 = (lhs.y * rhs.z % p * z2z2) % p
        let s2 = (rhs.y * lhs.z % p * z1z1) % p
        let h = sub(u2, u1)
        let r = sub(s2, s1)
        if h.isZero {
            return r.isZero ? double(lhs) : .infinity
        }
        let hh = (h * h) % p
        let hhh = (h * hh) % p
        let v = (u1 * hh) % p
        let x3 = sub(sub((r * r) % p, hhh), (2 * v) % p)
        let y3 = sub((r * sub(v, x3)) % p, (s1 * hhh) % p)
        let z3 = (lhs.z * rhs.z % p * h) % p
        return Jacobian(x: x3, y: y3, z: z3)
    }

    /// k·P by double-and-add.
    static func multiply(_ k: BigUInt, _ point: Point) -> Jacobian {
        multiplyAdd(k, point, 0, point)
    }

    /// a·P + b·Q with Shamir's trick (one shared doubling chain).
    static func multiplyAdd(_ a: BigUInt, _ pPoint: Point, _ b: BigUInt, _ qPoint: Point) -> Jacobian {
        let pj = Jacobian(pPoint)
        let qj = Jacobian(qPoint)
        let pq = add(pj, qj)
        var result = Jacobian.infinity
        // BigUInt.bitWidth is already the minimal width (floor(log2(2x + 1))).
        let bits = max(a.bitWidth, b.bitWidth)
        var i = bits - 1
        while i >= 0 {
            result = double(result)
            switch (a[bitAt: i], b[bitAt: i]) {
            case (true, true): result = add(result, pq)
            case (true, false): result = add(result, pj)
            case (false, true): result = add(result, qj)
            case (false, false): break
            }
            i -= 1
        }
        return result
    }
}
