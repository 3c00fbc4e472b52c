import Testing
@testable import Multiformats

@Suite struct VarintTests {
    // unsigned-varint spec examples.
    static let examples: [(UInt64, String)] = [
        (1, "01"), (127, "7f"), (128, "8001"), (255, "ff01"), (300, "ac02"), (16384, "808001"),
        (0, "00"), (Varint.maxValue, "ffffffffffffffff7f"),
    ]

    @Test(arguments: examples)
    func encodesAndDecodesSpecExamples(value: UInt64, encoded: String) throws {
        #expect(hex(Varint.encode(value)) == encoded)
        #expect(Varint.encodedLength(of: value) == encoded.count / 2)
        let decoded = try Varint.decode(bytes(hex: encoded) + [0xaa, 0xbb])
        #expect(decoded.value == value)
        #expect(decoded.length == encoded.count / 2)
    }

    @Test func encodeIntoAppends() {
        var buffer: [UInt8] = [0x42]
        Varint.encode(300, into: &buffer)
        #expect(buffer == [0x42, 0xac, 0x02])
    }

    @Test func refusesTruncated() {
        for input in [[], [0x80], [0xff, 0xff]] as [[UInt8]] {
            #expect(throws: MultiformatsError.self) { try Varint.decode(input) }
            #expect((try? Varint.decode(input)) == nil)
        }
        #expect(code { try Varint.decode([0x80, 0x80]) } == .truncated)
    }

    @Test func refusesNonMinimal() {
        #expect(code { try Varint.decode([0x81, 0x00]) } == .nonMinimalVarint)
        #expect(code { try Varint.decode([0x80, 0x80, 0x00]) } == .nonMinimalVarint)
    }

    @Test func refusesMoreThanNineBytes() {
        let tenBytes = Varint.encode(UInt64.max)
        #expect(tenBytes.count == 10)
        #expect(code { try Varint.decode(tenBytes) } == .varintTooLong)
        #expect(code { try Varint.decode([UInt8](repeating: 0x80, count: 9) + [0x01]) } == .varintTooLong)
    }
}

/// The error code thrown by `body`, or `nil` if it did not throw a `MultiformatsError`.
func code<T>(_ body: () throws -> T) -> MultiformatsError.Code? {
    do {
        _ = try body()
        return nil
    } catch let error as MultiformatsError {
        return error.code
    } catch {
        return nil
    }
}
