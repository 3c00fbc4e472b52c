import Foundation

/// The UI's static files (`Assets/`, shipped in the package bundle; no CDN), read once at start.
struct AssetStore: Sendable {
    /// One file's bytes and content type.
    struct Asset: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    private let assets: [String: Asset]

    /// Reads every file of `directory` (not recursive).
    init(directory: URL) throws {
        var assets: [String: Asset] = [:]
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw ChatWebError(.startup, "cannot read the web UI's files in \(directory.path)", underlying: error)
        }
        for name in names {
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
            assets[name] = Asset(bytes: Array(data), contentType: Self.contentType(of: name))
        }
        self.assets = assets
    }

    /// The files bundled with the module.
    static func bundled() throws -> AssetStore {
        guard let url = Bundle.module.url(forResource: "Assets", withExtension: nil) else {
            throw ChatWebError(.startup, "the web UI's files are missing from the ChatWeb resource bundle")
        }
        return try AssetStore(directory: url)
    }

    /// The file called `name`, if any.
    subscript(name: String) -> Asset? { assets[name] }

    /// The names of all files.
    var names: [String] { assets.keys.sorted() }

    static func contentType(of name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }
}
