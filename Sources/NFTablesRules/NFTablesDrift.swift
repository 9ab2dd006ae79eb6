/// Where two `nft list table` listings of kube-proxy's table differ: chains, sets and maps block
/// by block, set and map elements as sets (the kernel may list them in any order). Elements of
/// dynamic sets (affinity, filled by traffic) and empty chains the expected table lacks (stale
/// chains wait a second for deletion) are not drift.
public enum NFTablesDrift {
    /// `chain NAME` / `set NAME` / `map NAME` -> its normalised lines.
    public static func blocks(_ listing: String) -> [String: [String]] {
        var blocks: [String: [String]] = [:]
        var key: String?, lines: [String] = [], elements: String?, collecting = false
        func finish() {
            guard let name = key else { return }
            let dynamic = lines.contains { $0.hasPrefix("flags ") && $0.contains("dynamic") }
            if let elements, !dynamic {
                let items = elements.split(separator: ",").map { String($0.trimmingSpaces()) }.filter { !$0.isEmpty }.sorted()
                lines.append("elements: " + items.joined(separator: ", "))
            }
            blocks[name] = lines
        }
        for raw in listing.split(separator: "\n") {
            let line = String(raw.trimmingSpaces())
            if raw.hasPrefix("\t") && !raw.hasPrefix("\t\t") {
                if line == "}" { finish(); key = nil; continue }
                let words = line.split(separator: " ")
                if words.count >= 3, ["chain", "set", "map"].contains(words[0]) {
                    (key, lines, elements, collecting) = ("\(words[0]) \(words[1])", [], nil, false)
                }
                continue
            }
            guard key != nil, !line.isEmpty else { continue }
            if line.hasPrefix("elements = {") || collecting {
                let part = collecting ? line : String(line.dropFirst("elements = {".count))
                collecting = !part.hasSuffix("}")
                elements = (elements.map { $0 + " " } ?? "") + (collecting ? part : String(part.dropLast()))
                continue
            }
            lines.append(line)
        }
        return blocks
    }

    /// The differences of `live` from `expected`, one line each, sorted by block.
    public static func differences(live: String, expected: String) -> [String] {
        let (have, want) = (blocks(live), blocks(expected))
        var out: [String] = []
        for key in Set(have.keys).union(want.keys).sorted() {
            switch (have[key], want[key]) {
            case (nil, let lines?): out.append("\(key): missing (\(lines.count) lines expected)")
            case (let lines?, nil) where !(key.hasPrefix("chain ") && lines.isEmpty): out.append("\(key): not expected")
            case (let live?, let wanted?) where live != wanted:
                let extra = live.filter { !wanted.contains($0) }, lacking = wanted.filter { !live.contains($0) }
                out.append("\(key): differs; live only: \(extra.prefix(3).joined(separator: " | ")); expected only: \(lacking.prefix(3).joined(separator: " | "))")
            default: break
            }
        }
        return out
    }
}
