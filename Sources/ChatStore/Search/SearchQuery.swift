/// Turns what a user typed into a safe FTS5 query.
///
/// User text is never passed as FTS5 syntax: each word becomes a quoted string (inner quotes
/// doubled) with a prefix star, and words are ANDed. `AND`, `OR`, `NOT`, `NEAR`, `*`, `^`,
/// `:`, parentheses and quotes in the input are therefore just text. Control characters split
/// words (a NUL would cut the query short in SQLite's parser), and words without any letter or
/// digit are dropped (the tokenizer would make them empty phrases).
struct SearchQuery: Hashable, Sendable {
    /// The longest input accepted, in characters; longer input is cut.
    static let maximumInputLength = 256
    /// The most words used; further words are ignored.
    static let maximumWords = 16

    /// The FTS5 MATCH expression.
    let expression: String

    /// `nil` when the input has no searchable word.
    init?(words input: String) {
        let words = input.prefix(Self.maximumInputLength)
            .split(whereSeparator: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } })
            .filter { word in word.unicodeScalars.contains { $0.properties.isAlphabetic || $0.properties.numericType != nil } }
            .prefix(Self.maximumWords)
        guard !words.isEmpty else { return nil }
        expression = words.map { word in
            "\"" + word.replacingOccurrences(of: "\"", with: "\"\"") + "\"*"
        }.joined(separator: " ")
    }
}

extension Substring {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
