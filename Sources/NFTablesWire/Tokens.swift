/// The words of a rule: whitespace separates, `{`, `}` and `,` stand alone, a quoted string is one word.
struct Tokens {
    private let words: [String]
    private var index = 0
    let text: String

    init(_ text: String) {
        self.text = text
        var words: [String] = [], current = "", quoted = false
        for character in text {
            if quoted {
                current.append(character)
                if character == "\"" { quoted = false }
            } else if character == "\"" {
                current.append(character)
                quoted = true
            } else if character == " " || character == "\t" {
                if !current.isEmpty { words.append(current); current = "" }
            } else if character == "{" || character == "}" || character == "," {
                if !current.isEmpty { words.append(current); current = "" }
                words.append(String(character))
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        self.words = words
    }

    var isAtEnd: Bool { index >= words.count }

    mutating func next() -> String? {
        guard index < words.count else { return nil }
        defer { index += 1 }
        return words[index]
    }

    mutating func putBack() { index -= 1 }

    /// Consumes `word` when it comes next.
    mutating func take(_ word: String) -> Bool {
        guard index < words.count, words[index] == word else { return false }
        index += 1
        return true
    }

    func unsupported(_ what: String) -> NFTWireError {
        NFTWireError(code: .unsupported, message: "\(what) in rule \"\(text)\"")
    }
}
