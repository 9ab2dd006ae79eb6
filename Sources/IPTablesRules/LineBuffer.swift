import KubeProxyCore

/// Lines of iptables-restore text, built from words joined by single spaces (upstream's `LineBuffer`).
struct LineBuffer {
    private(set) var lines: [String] = []

    /// Appends one line made of `words`.
    mutating func write(_ words: [String]) {
        lines.append(words.joined(separator: " "))
    }

    /// Appends one line made of `words`.
    mutating func write(_ words: String...) {
        write(words)
    }

    /// Appends one finished line.
    mutating func writeLine(_ line: String) {
        lines.append(line)
    }

    var count: Int { lines.count }
}

/// `:CHAIN - [0:0]`, the restore line that creates or flushes a chain.
func chainLine(_ chain: String) -> String { ":\(chain) - [0:0]" }
