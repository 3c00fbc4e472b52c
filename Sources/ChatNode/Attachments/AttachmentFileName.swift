/// Turns a file name chosen by a peer into one that is safe to create inside an attachment's
/// own directory: a single path component, never `.`/`..` or hidden, no control or separator
/// characters, bounded length, extension kept where possible.
public enum AttachmentFileName {
    /// The longest sanitized name, in UTF-8 bytes (file systems allow 255).
    public static let maximumLength = 200
    /// The name used when nothing usable is left.
    public static let fallback = "attachment"

    /// The sanitized form of `name`.
    public static func sanitize(_ name: String) -> String {
        // Only the last component of either path convention counts.
        let last = name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var cleaned = String(String.UnicodeScalarView(last.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned: "_"
            default: [":", "*", "?", "\"", "<", ">", "|"].contains(scalar) ? "_" : scalar
            }
        }))
        cleaned = String(cleaned.trimmingPrefix(while: { $0 == "." || $0.isWhitespace }))
        while let last = cleaned.last, last == "." || last.isWhitespace { cleaned.removeLast() }
        guard !cleaned.isEmpty else { return fallback }
        return truncated(cleaned)
    }

    /// `name` cut to ``maximumLength`` UTF-8 bytes on a character boundary, keeping a short
    /// extension.
    static func truncated(_ name: String) -> String {
        guard name.utf8.count > maximumLength else { return name }
        var stem = Substring(name)
        var suffix = ""
        if let dot = name.lastIndex(of: "."), name.utf8.distance(from: dot, to: name.endIndex) <= 16 {
            stem = name[..<dot]
            suffix = String(name[dot...])
        }
        var kept = ""
        for character in stem {
            guard kept.utf8.count + character.utf8.count + suffix.utf8.count <= maximumLength else { break }
            kept.append(character)
        }
        return kept.isEmpty ? fallback : kept + suffix
    }
}
