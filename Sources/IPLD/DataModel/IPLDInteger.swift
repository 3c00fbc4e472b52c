/// An IPLD data-model integer in the range −2⁶⁴ … 2⁶⁴−1.
///
/// The data model's integers are unbounded in principle; DAG-CBOR can carry exactly this range
/// (major types 0 and 1, ipld/specs `codecs/dag-cbor/spec.md` "Integers"), and the codec
/// fixtures use both ends of it. Stored the way CBOR stores it: a sign and a 64-bit argument,
/// where a negative value is `−1 − argument`.
public struct IPLDInteger: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// Whether the value is below zero.
    public let isNegative: Bool
    /// The CBOR argument: the value itself if non-negative, else `−1 − value`.
    public let cborArgument: UInt64

    /// Creates an integer from its CBOR sign and argument (`−1 − argument` when negative).
    public init(isNegative: Bool, cborArgument: UInt64) {
        self.isNegative = isNegative
        self.cborArgument = cborArgument
    }

    /// Creates an integer from a signed 64-bit value.
    public init(_ value: Int64) {
        if value < 0 {
            self.init(isNegative: true, cborArgument: UInt64(-(value + 1)))
        } else {
            self.init(isNegative: false, cborArgument: UInt64(value))
        }
    }

    /// Creates an integer from an unsigned 64-bit value.
    public init(_ value: UInt64) {
        self.init(isNegative: false, cborArgument: value)
    }

    /// Creates an integer from an `Int`.
    public init(_ value: Int) {
        self.init(Int64(value))
    }

    /// Creates an integer from a literal.
    public init(integerLiteral value: Int64) {
        self.init(value)
    }

    /// Parses a decimal integer (optional leading `-`, no leading zeros, as in JSON).
    ///
    /// Returns `nil` outside −2⁶⁴ … 2⁶⁴−1 or for anything but digits.
    public init?(decimal text: some StringProtocol) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard digits == "0" || digits.first != "0" else { return nil }
        guard let magnitude = UInt64(digits) else {
            // Only −2⁶⁴ is beyond UInt64 and still in range.
            guard negative, digits == "18446744073709551616" else { return nil }
            self.init(isNegative: true, cborArgument: .max)
            return
        }
        if negative && magnitude > 0 {
            self.init(isNegative: true, cborArgument: magnitude - 1)
        } else {
            self.init(isNegative: false, cborArgument: magnitude)
        }
    }

    /// The value as `Int64`, or `nil` if it does not fit.
    public var int64Value: Int64? {
        if isNegative {
            guard cborArgument <= UInt64(Int64.max) else { return nil }
            return -1 - Int64(cborArgument)
        }
        guard cborArgument <= UInt64(Int64.max) else { return nil }
        return Int64(cborArgument)
    }

    /// The value as `UInt64`, or `nil` if it is negative.
    public var uint64Value: UInt64? { isNegative ? nil : cborArgument }

    /// The value as `Int`, or `nil` if it does not fit.
    public var intValue: Int? { int64Value.flatMap { Int(exactly: $0) } }

    public var description: String {
        guard isNegative else { return String(cborArgument) }
        if cborArgument == .max { return "-18446744073709551616" }
        return "-" + String(cborArgument + 1)
    }

    public static func < (lhs: IPLDInteger, rhs: IPLDInteger) -> Bool {
        switch (lhs.isNegative, rhs.isNegative) {
        case (true, false): true
        case (false, true): false
        case (false, false): lhs.cborArgument < rhs.cborArgument
        case (true, true): lhs.cborArgument > rhs.cborArgument
        }
    }
}
