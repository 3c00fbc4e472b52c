import NIOCore
import Testing

@testable import LibP2P

@Suite struct YamuxFrameHeaderTests {
    @Test func roundTripsEveryTypeAndFlag() throws {
        let headers = [
            YamuxFrameHeader(type: .data, flags: [.syn, .fin], streamID: 1, length: 65_507),
            YamuxFrameHeader(type: .windowUpdate, flags: [.ack, .rst], streamID: 0xFFFF_FFFE, length: 0xFFFF_FFFF),
            YamuxFrameHeader(type: .ping, flags: .syn, streamID: 0, length: 42),
            YamuxFrameHeader(type: .goAway, streamID: 0, length: YamuxFrameHeader.GoAwayCode.protocolError.rawValue),
        ]
        for header in headers {
            var buffer = ByteBuffer()
            header.encode(into: &buffer)
            #expect(buffer.readableBytes == YamuxFrameHeader.size)
            let parsed = try YamuxFrameHeader(parsing: &buffer)
            #expect(parsed == header)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func encodesBigEndianAsInTheSpec() {
        var buffer = ByteBuffer()
        YamuxFrameHeader(type: .windowUpdate, flags: [.syn, .ack], streamID: 0x0102_0304, length: 0x0506_0708)
            .encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [0, 1, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func truncatedHeaderConsumesNothing() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])
        #expect(try YamuxFrameHeader(parsing: &buffer) == nil)
        #expect(buffer.readableBytes == 11)
    }

    @Test func rejectsUnknownVersionAndType() {
        var badVersion = ByteBuffer(bytes: [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(throws: LibP2PError.self) { try YamuxFrameHeader(parsing: &badVersion) }
        var badType = ByteBuffer(bytes: [0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(throws: LibP2PError.self) { try YamuxFrameHeader(parsing: &badType) }
    }

    @Test func keepsUnknownFlagBits() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0x80, 0x01, 0, 0, 0, 1, 0, 0, 0, 0])
        let header = try #require(try YamuxFrameHeader(parsing: &buffer))
        #expect(header.flags.contains(.syn))
        #expect(header.flags.rawValue == 0x8001)
    }
}
