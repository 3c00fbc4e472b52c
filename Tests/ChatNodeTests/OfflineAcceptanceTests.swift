import Foundation
import LibP2P
import Testing

/// `p2pchat mailbox serve` as a child process, its stderr in a file (debug logs can be long).
final class MailboxProcess: @unchecked Sendable {
    let process = Process()
    let logFile: URL
    private let stdout = Pipe()

    init(home: URL, listen: String = "/ip4/127.0.0.1/tcp/0") throws {
        logFile = home.deletingLastPathComponent().appendingPathComponent(home.lastPathComponent + "-\(UUID().uuidString.prefix(4)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = Binary.url
        process.arguments = ["--home", home.path, "--log-level", "debug", "mailbox", "serve", "--allow-private-push", "--listen", listen]
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// The first multiaddr it prints.
    func address() async -> String {
        let handle = stdout.fileHandleForReading
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let data = handle.readData(ofLength: 1)
                    if data.isEmpty || data.first == 0x0a { break }
                    bytes.append(contentsOf: data)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    func kill(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func removeLog() { try? FileManager.default.removeItem(at: logFile) }
}

struct MailboxRow: Decodable {
    var address: String
    var queues: Int
    var waitingEnvelopes: Int?
}

/// Envelopes waiting for `home` at its mailboxes (`mailbox list --json`).
func waiting(_ home: URL) async throws -> Int? {
    let rows = try JSONDecoder().decode([MailboxRow].self, from: Data(try await p2pchat(home, ["mailbox", "list", "--json"]).utf8))
    return rows.reduce(0 as Int?) { total, row in row.waitingEnvelopes.flatMap { value in total.map { $0 + value } } }
}

struct StatusJSON: Decodable {
    var peerID: String
    var outbox: [String: Int]
}

func statusJSON(_ home: URL) async throws -> StatusJSON {
    try JSONDecoder().decode(StatusJSON.self, from: Data(try await p2pchat(home, ["status", "--json"]).utf8))
}

/// Bob uses a mailbox and invites Alice, whose node runs; Bob stays offline.
func setUpOffline(alice homeA: URL, bob homeB: URL, mailbox: String, push: String? = nil) async throws -> Child {
    try await p2pchat(homeA, ["init", "--name", "alice"])
    try await p2pchat(homeB, ["init", "--name", "bob"])
    try await p2pchat(homeB, ["mailbox", "use", mailbox] + (push.map { ["--push", $0] } ?? []))
    let code = try await p2pchat(homeB, ["invite"]).trimmingCharacters(in: .whitespacesAndNewlines)
    let upA = try Child(["--home", homeA.path, "up", "--no-web"])
    _ = await upA.firstLine()
    try await p2pchat(homeA, ["contacts", "add", code, "--name", "bob"])
    return upA
}

@Suite("Acceptance: offline delivery through a mailbox, separate processes", .serialized)
struct OfflineAcceptanceTests {
    static var built: Bool { FileManager.default.isExecutableFile(atPath: Binary.url.path) }

    @Test("500 messages to an offline Bob: stored 1/1, push wake-up, then all once and in order, delivered, deleted; no PeerIDs at the mailbox",
          .enabled(if: built, "build p2pchat first: swift build --build-tests"), .timeLimit(.minutes(3)))
    func fiveHundredOffline() async throws {
        try await withTemporaryHome { homeM in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let endpoint = try await TinyHTTPEndpoint()
                    let mailbox = try MailboxProcess(home: homeM)
                    defer {
                        mailbox.kill(SIGKILL)
                        mailbox.removeLog()
                    }
                    let address = await mailbox.address()
                    #expect(address.contains("/p2p/"))
                    let upA = try await setUpOffline(alice: homeA, bob: homeB, mailbox: address, push: endpoint.url)
                    defer { upA.kill(SIGTERM) }

                    let texts = (1...500).map { String(format: "offline %03d", $0) }
                    try await p2pchat(homeA, ["send", "bob", "--stdin-lines", "--wait", "0"], stdin: texts.joined(separator: "\n") + "\n")
                    try await until("all 500 stored 1/1 at Bob's mailbox", timeout: .seconds(60)) {
                        let out = try await messagesJSON(homeA, with: "bob")
                        return out.count == 500 && out.allSatisfy { $0.state == "stored 1/1" }
                    }
                    #expect(try await statusJSON(homeA).outbox["stored"] == 500)
                    #expect(try await waiting(homeB) ?? 0 >= 500)
                    try await until("a push wake-up") { !endpoint.requests.isEmpty }

                    let notified = homeB.appendingPathComponent("notified.txt")
                    let upB = try Child(["--home", homeB.path, "up", "--no-web", "--on-message", "echo \"$P2PCHAT_SENDER $P2PCHAT_MESSAGE_ID\" >> '\(notified.path)'"])
                    defer { upB.kill(SIGTERM) }
                    _ = await upB.firstLine()
                    try await until("Bob has all 500", timeout: .seconds(90)) {
                        (try? await messagesJSON(homeB, with: "alice"))?.count == 500  // no contact until the hello is in
                    }
                    try await until("Alice's 500 delivered", timeout: .seconds(90)) {
                        try await messagesJSON(homeA, with: "bob").allSatisfy { $0.state == "delivered" }
                    }
                    let incoming = try await messagesJSON(homeB, with: "alice")
                    #expect(incoming.sorted { $0.seq < $1.seq }.map(\.body) == texts, "exactly once, in order")
                    #expect(Set(incoming.map(\.id)).count == 500)
                    #expect(try await waiting(homeB) == 0, "the mailbox holds none afterwards")
                    try await until("500 on-message commands") {
                        ((try? String(contentsOf: notified, encoding: .utf8)) ?? "").split(separator: "\n").count == 500
                    }
                    let lines = try String(contentsOf: notified, encoding: .utf8).split(separator: "\n").map(String.init)
                    #expect(Set(lines) == Set(incoming.map { "alice \($0.id)" }))

                    // Wake-ups carry nothing about the users, and the mailbox never saw them.
                    let alicePeer = try PeerID(try await statusJSON(homeA).peerID)
                    let bobPeer = try PeerID(try await statusJSON(homeB).peerID)
                    for request in endpoint.requests {
                        let text = request.head + String(decoding: request.body, as: UTF8.self)
                        #expect(!text.contains(alicePeer.description) && !text.contains(bobPeer.description) && !text.contains("offline"))
                    }
                    await endpoint.stop()
                    mailbox.kill(SIGTERM)
                    var stored: [UInt8] = []
                    for suffix in ["", "-wal", "-shm"] {
                        if let data = FileManager.default.contents(atPath: homeM.appendingPathComponent("mailbox.sqlite").path + suffix) { stored += data }
                    }
                    #expect(stored.count > 0)
                    let log = mailbox.log
                    #expect(!log.isEmpty, "debug logging is on")
                    for peer in [alicePeer, bobPeer] {
                        #expect(!stored.contains(bytes: Array(peer.description.utf8)), "PeerID text in mailbox.sqlite")
                        #expect(!stored.contains(bytes: peer.bytes), "PeerID bytes in mailbox.sqlite")
                        #expect(!log.contains(peer.description), "PeerID in the mailbox log")
                    }
                    #expect(!stored.contains(bytes: Array("offline 001".utf8)) && !log.contains("alice"))
                }
            }
        }
    }

    @Test("kill -9 of the mailbox during deposits and of Bob during a drain: nothing lost, nothing shown twice",
          .enabled(if: built, "build p2pchat first: swift build --build-tests"), .timeLimit(.minutes(3)))
    func crashes() async throws {
        try await withTemporaryHome { homeM in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    var mailbox = try MailboxProcess(home: homeM)
                    let address = await mailbox.address()
                    defer {
                        mailbox.kill(SIGKILL)
                        mailbox.removeLog()
                    }
                    let upA = try await setUpOffline(alice: homeA, bob: homeB, mailbox: address)
                    defer { upA.kill(SIGTERM) }
                    let texts = (1...300).map { String(format: "crash %03d", $0) }
                    try await p2pchat(homeA, ["send", "bob", "--stdin-lines", "--wait", "0"], stdin: texts.joined(separator: "\n") + "\n")
                    try await until("some deposits", timeout: .seconds(60)) {
                        try await messagesJSON(homeA, with: "bob").count { $0.state == "stored 1/1" } >= 20
                    }
                    mailbox.kill(SIGKILL)
                    let atKill = try await messagesJSON(homeA, with: "bob").count { $0.state == "stored 1/1" }
                    print("crashes: mailbox killed with \(atKill) of 300 stored")
                    let listen = String(address[..<address.range(of: "/p2p/")!.lowerBound])
                    mailbox.removeLog()
                    mailbox = try MailboxProcess(home: homeM, listen: listen)
                    #expect(await mailbox.address() == address, "same identity and port after the restart")
                    try await until("all 300 stored after the restart", timeout: .seconds(90)) {
                        try await messagesJSON(homeA, with: "bob").allSatisfy { $0.state == "stored 1/1" }
                    }

                    var upB = try Child(["--home", homeB.path, "up", "--no-web"])
                    _ = await upB.firstLine()
                    try await until("Bob is draining", timeout: .seconds(60)) {
                        ((try? await messagesJSON(homeB, with: "alice"))?.count ?? 0) >= 30
                    }
                    upB.kill(SIGKILL)
                    print("crashes: bob killed with \(try await messagesJSON(homeB, with: "alice").count) of 300")
                    upB = try Child(["--home", homeB.path, "up", "--no-web"])
                    defer { upB.kill(SIGTERM) }
                    _ = await upB.firstLine()
                    try await until("Bob has all 300 and Alice sees them delivered", timeout: .seconds(90)) {
                        let b = try await messagesJSON(homeB, with: "alice").count
                        let a = try await messagesJSON(homeA, with: "bob")
                        return b >= 300 && a.allSatisfy { $0.state == "delivered" }
                    }
                    let incoming = try await messagesJSON(homeB, with: "alice")
                    #expect(incoming.count == 300)
                    #expect(incoming.sorted { $0.seq < $1.seq }.map(\.body) == texts, "nothing lost, nothing twice, in order")
                    #expect(try await waiting(homeB) == 0)
                }
            }
        }
    }

    @Test("`sync` drains once, prints counts, exits, and its receipts make Alice's messages delivered",
          .enabled(if: built, "build p2pchat first: swift build --build-tests"), .timeLimit(.minutes(1)))
    func syncOnce() async throws {
        struct Report: Decodable { var fetched: Int; var stored: Int; var acknowledged: Int }
        try await withTemporaryHome { homeM in
            try await withTemporaryHome { homeA in
                try await withTemporaryHome { homeB in
                    let mailbox = try MailboxProcess(home: homeM)
                    defer {
                        mailbox.kill(SIGKILL)
                        mailbox.removeLog()
                    }
                    let upA = try await setUpOffline(alice: homeA, bob: homeB, mailbox: await mailbox.address())
                    defer { upA.kill(SIGTERM) }
                    try await p2pchat(homeA, ["send", "bob", "--stdin-lines", "--wait", "0"], stdin: "one\ntwo\nthree\n")
                    try await until("stored") { try await messagesJSON(homeA, with: "bob").allSatisfy { $0.state == "stored 1/1" } }
                    let report = try JSONDecoder().decode(Report.self, from: Data(try await p2pchat(homeB, ["sync", "--json"]).utf8))
                    #expect(report.stored == 4 && report.fetched == 4 && report.acknowledged == 4, "the hello and three texts")
                    #expect(try await messagesJSON(homeB, with: "alice").map(\.body) == ["one", "two", "three"])
                    try await until("delivered") { try await messagesJSON(homeA, with: "bob").allSatisfy { $0.state == "delivered" } }
                    let again = try JSONDecoder().decode(Report.self, from: Data(try await p2pchat(homeB, ["sync", "--json", "--wait", "0"]).utf8))
                    #expect(again.fetched == 0)
                }
            }
        }
    }
}
