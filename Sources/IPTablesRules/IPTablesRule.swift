import KubeProxyCore
import KubeProxyModel

/// One `-A CHAIN …` rule, kept as written and split into words (a quoted string is one word,
/// without its quotes).
public struct IPTablesRule: Hashable, Sendable, CustomStringConvertible {
    /// The chain the rule is appended to.
    public var chain: String
    /// The whole line as written, trimmed.
    public var line: String
    /// The words after `-A CHAIN`.
    public var words: [String]

    public init(line: String) throws {
        let trimmed = String(line.trimmingSpaces())
        let all = try Self.split(trimmed)
        guard all.count >= 2, all[0] == "-A" else { throw IPTablesParseError(line: 0, text: line, reason: "not an -A rule") }
        self.chain = all[1]
        self.words = Array(all.dropFirst(2))
        self.line = trimmed
    }

    public var description: String { line }

    /// The jump target (`-j X`), if any.
    public var target: String? { value(after: "-j") }

    /// The value following the first occurrence of `flag`.
    public func value(after flag: String) -> String? {
        guard let i = words.firstIndex(of: flag), i + 1 < words.count else { return nil }
        return words[i + 1]
    }

    /// The value following `flag`, and whether a `!` stands right before the flag.
    public func negatableValue(after flag: String) -> (value: String, negated: Bool)? {
        guard let i = words.firstIndex(of: flag), i + 1 < words.count else { return nil }
        return (words[i + 1], i > 0 && words[i - 1] == "!")
    }

    /// Whether the rule contains `word`.
    public func has(_ word: String) -> Bool { words.contains(word) }

    /// The `--comment` text, without quotes.
    public var comment: String? { value(after: "--comment") }

    /// Splits on spaces; a double-quoted string is one word.
    static func split(_ line: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var hasWord = false
        for ch in line {
            if inQuotes {
                if ch == "\"" { inQuotes = false } else { current.append(ch) }
            } else if ch == "\"" {
                inQuotes = true
                hasWord = true
            } else if ch == " " || ch == "\t" {
                if hasWord { words.append(current); current = ""; hasWord = false }
            } else {
                current.append(ch)
                hasWord = true
            }
        }
        if inQuotes { throw IPTablesParseError(line: 0, text: line, reason: "unterminated quote") }
        if hasWord { words.append(current) }
        return words
    }
}

/// A line of iptables text that could not be parsed.
public struct IPTablesParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line number in its input.
    public var line: Int
    public var text: String
    public var reason: String
    public var description: String { "line \(line): \(reason): \(text)" }
}
