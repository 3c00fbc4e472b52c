import Foundation
import Testing

/// The `p2pchat` binary built next to the tests (`swift build --build-tests` builds it).
enum Binary {
    static var url: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/p2pchat")
    }
}

/// A child process running `p2pchat`.
final class Child: @unchecked Sendable {
    let process = Process()
    private let stdout = Pipe()
    private let stderr = Pipe()

    init(_ arguments: [String], stdin: String? = nil) throws {
        process.executableURL = Binary.url
        process.arguments = arguments
        process.standardOutput = stdout
        process.standardError = stderr
        if let stdin {
            let input = Pipe()
            process.standardInput = input
            try process.run()
            let handle = input.fileHandleForWriting
            DispatchQueue.global().async {
                handle.write(Data(stdin.utf8))
                try? handle.close()
            }
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    /// Waits for exit and returns (status, stdout, stderr).
    func finish() async -> (status: Int32, out: String, err: String) {
        let out = stdout.fileHandleForReading
        let err = stderr.fileHandleForReading
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let outData = out.readDataToEndOfFile()
                let errData = err.readDataToEndOfFile()
                self.process.waitUntilExit()
                continuation.resume(returning: (self.process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)))
            }
        }
    }

    /// Reads stdout up to the first newline.
    func firstLine() async -> String {
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
}

/// Runs `p2pchat --home HOME ARGS…` to completion; non-zero exit fails with its stderr.
@discardableResult
func p2pchat(_ home: URL, _ arguments: [String], stdin: String? = nil) async throws -> String {
    let child = try Child(["--home", home.path] + arguments, stdin: stdin)
    let result = await child.finish()
    guard result.status == 0 else {
        throw TimedOut(description: "p2pchat \(arguments.first ?? "") exited \(result.status): \(result.err)")
    }
    return result.out
}

struct MessageJSON: Decodable {
    var id: String
    var direction: String
    var body: String
    var state: String
    var seq: Int64
    var sentAt: String
}

func messagesJSON(_ home: URL, with name: String) async throws -> [MessageJSON] {
    let out = try await p2pchat(home, ["messages", name, "--json", "--limit", "10000", "--no-mark-read"])
    return try JSONDecoder().decode([MessageJSON].self, from: Data(out.utf8))
}

@Suite("Acceptance: two homes, two processes", .serialized)
struct AcceptanceTests {
    static let count = 1000

    @Test("1,000 messages each way at once, a SIGKILL restart in the middle, nothing lost or duplicated",
          .enabled(if: FileManager.default.isExecutableFile(atPath: Binary.url.path), "build p2pchat first: swift build --build-tests"),
          .timeLimit(.minutes(3)))
    func thousandEachWay() async throws {
        try await withTemporaryHome { homeA in
            try await withTemporaryHome { homeB in
                try await p2pchat(homeA, ["init", "--name", "alice"])
                try await p2pchat(homeB, ["init", "--name", "bob"])
                let upA = try Child(["--home", homeA.path, "up", "--no-web"])
                var upB = try Child(["--home", homeB.path, "up", "--no-web"])
                defer {
                    upA.kill(SIGTERM)
                    upB.kill(SIGTERM)
                }
                let addressA = await upA.firstLine()
                #expect(addressA.hasPrefix("/ip4/127.0.0.1/tcp/") && addressA.contains("/p2p/12D3KooW"), "\(addressA)")
                let addressB = await upB.firstLine()
                #expect(addressB.contains("/p2p/"))

                let code = try await p2pchat(homeA, ["invite"]).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(code.hasPrefix("p2pchat:"))
                try await p2pchat(homeB, ["contacts", "add", code, "--name", "alice"])
                try await until("alice learns bob from his hello", timeout: .seconds(30)) {
                    try await p2pchat(homeA, ["contacts", "list"]).contains("bob")
                }

                let fromAlice = (1...Self.count).map { String(format: "alice→bob %04d", $0) }
                let fromBob = (1...Self.count).map { String(format: "bob→alice %04d", $0) }
                async let sendA = p2pchat(homeA, ["send", "bob", "--stdin-lines", "--wait", "0"], stdin: fromAlice.joined(separator: "\n") + "\n")
                async let sendB = p2pchat(homeB, ["send", "alice", "--stdin-lines", "--wait", "0"], stdin: fromBob.joined(separator: "\n") + "\n")
                _ = try await (sendA, sendB)

                // Restart bob's node in the middle of the exchange, without warning.
                try await until("bob has received some of alice's messages", timeout: .seconds(60)) {
                    try await messagesJSON(homeB, with: "alice").count { $0.direction == "in" } >= 50
                }
                upB.kill(SIGKILL)
                let atKill = (
                    b: try await messagesJSON(homeB, with: "alice").count { $0.direction == "in" },
                    a: try await messagesJSON(homeA, with: "bob").count { $0.direction == "in" })
                print("acceptance: at SIGKILL bob had \(atKill.b), alice had \(atKill.a) of \(Self.count)")
                upB = try Child(["--home", homeB.path, "up", "--no-web"])
                #expect(await upB.firstLine() == addressB)  // the port is kept across restarts

                try await until("everything delivered both ways", timeout: .seconds(120)) {
                    let a = try await messagesJSON(homeA, with: "bob")
                    let b = try await messagesJSON(homeB, with: "alice")
                    return a.count { $0.direction == "in" } >= Self.count && b.count { $0.direction == "in" } >= Self.count
                        && a.allSatisfy { $0.direction == "in" || $0.state == "delivered" }
                        && b.allSatisfy { $0.direction == "in" || $0.state == "delivered" }
                }
                for (home, name, expected) in [(homeA, "bob", fromBob), (homeB, "alice", fromAlice)] {
                    let messages = try await messagesJSON(home, with: name)
                    let incoming = messages.filter { $0.direction == "in" }.sorted { $0.seq < $1.seq }
                    #expect(incoming.map(\.body) == expected, "exactly once, in order")
                    #expect(Set(incoming.map(\.id)).count == Self.count)
                    let outgoing = messages.filter { $0.direction == "out" }
                    #expect(outgoing.count == Self.count)
                    #expect(outgoing.allSatisfy { $0.state == "delivered" })
                }
                struct Hit: Decodable { var message: MessageJSON }
                let hits = try JSONDecoder().decode([Hit].self, from: Data(try await p2pchat(homeB, ["search", "0500", "--json"]).utf8))
                #expect(Set(hits.map(\.message.body)) == ["alice→bob 0500", "bob→alice 0500"])
                let status = try await p2pchat(homeA, ["status"])
                #expect(status.contains("bob\tonline"), "\(status)")
            }
        }
    }
}
