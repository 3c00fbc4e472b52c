import Foundation

/// Locates the shared vectors (`../shared/vectors` relative to the repository root).
enum Vectors {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/vectors")

    static var codecFixtures: URL { root.appendingPathComponent("ipld-codec-fixtures") }
    static var storacha: URL { root.appendingPathComponent("storacha") }

    static func bytes(_ url: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url))
    }

    static func contents(of directory: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// One fixture folder: name → (expected CID string, file bytes) per codec extension.
    struct Fixture: Sendable, CustomStringConvertible {
        let name: String
        let forms: [String: (cid: String, bytes: [UInt8])]
        var description: String { name }
    }

    static func fixtures() -> [Fixture] {
        contents(of: codecFixtures.appendingPathComponent("fixtures")).map { folder in
            var forms: [String: (cid: String, bytes: [UInt8])] = [:]
            for file in contents(of: folder) {
                let ext = file.pathExtension
                forms[ext] = (file.deletingPathExtension().lastPathComponent, (try? bytes(file)) ?? [])
            }
            return Fixture(name: folder.lastPathComponent, forms: forms)
        }
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func hexString(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Negative fixtures of one codec and direction: `(name, json object)`.
    static func negativeFixtures(_ codec: String, _ direction: String) throws -> [[String: Any]] {
        let folder = codecFixtures.appendingPathComponent("negative-fixtures/\(codec)/\(direction)")
        var all: [[String: Any]] = []
        for file in contents(of: folder) where file.pathExtension == "json" {
            let list = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [[String: Any]] ?? []
            all += list
        }
        return all
    }
}
