import Foundation

/// The body of a control message that tells a contact where to deposit for us when we are
/// offline: the queue addresses (Mailbox's `QueueAddress` encoding) we created for *this*
/// contact, one per mailbox we use (ARCHITECTURE.md Mailboxes). Sent inside the encrypted
/// session, so only the contact learns them; the full list replaces the previous one.
///
/// JSON: `{"v":1,"type":"mailboxes","queues":["<base64 QueueAddress>",…]}`.
public struct MailboxesContent: Codable, Hashable, Sendable {
    /// The format version.
    public static let version = 1
    /// The most queue addresses accepted.
    public static let maximumQueues = 16

    /// Always `version`.
    public var v: Int
    /// Always `mailboxes`.
    public var type: String
    /// The queue addresses, base64.
    public var queues: [Data]

    /// An announcement of `queues` (encoded queue addresses).
    public init(queues: [[UInt8]]) {
        self.v = Self.version
        self.type = "mailboxes"
        self.queues = queues.map { Data($0) }
    }

    /// Parses a control body; anything but a version-1 mailbox list is `.malformedInput`.
    public init(parsing body: String) throws {
        guard let decoded = try? JSONDecoder().decode(MailboxesContent.self, from: Data(body.utf8)),
              decoded.v == Self.version, decoded.type == "mailboxes", decoded.queues.count <= Self.maximumQueues
        else {
            throw ChatNodeError(.malformedInput, "control message is not a mailbox list")
        }
        self = decoded
    }

    /// The JSON body.
    public var body: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }
}

extension Data {
    /// Parses lower- or upper-case hex; `nil` for odd lengths or other characters.
    init?(hexadecimal text: String) {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
