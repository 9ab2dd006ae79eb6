/// How many rules each chain and how many elements each set or map of a table holds: what the
/// cheap integrity check reads from the kernel (``parse(listing:)``) or a fake.
public struct NFTTableSummary: Hashable, Sendable {
    public var rules: [String: Int] = [:]
    public var elements: [String: Int] = [:]
    public init(rules: [String: Int] = [:], elements: [String: Int] = [:]) {
        self.rules = rules
        self.elements = elements
    }

    /// Reads `nft list table` output: chain blocks (each line a rule, but the `type … hook` and
    /// `comment` lines), set and map blocks (elements counted in `elements = { … }`).
    public static func parse(listing: String) -> NFTTableSummary {
        var summary = NFTTableSummary()
        var current: (kind: Substring, name: String)?
        var inElements = false, elementText = ""
        for raw in listing.split(separator: "\n") {
            let line = raw.drop { $0 == "\t" || $0 == " " }
            if raw.hasPrefix("\t") && !raw.hasPrefix("\t\t") {
                if line == "}" { current = nil; continue }
                let words = line.split(separator: " ")
                if words.count >= 3, ["chain", "set", "map"].contains(words[0]) {
                    current = (words[0], String(words[1]))
                    if words[0] == "chain" { summary.rules[String(words[1])] = 0 } else { summary.elements[String(words[1])] = 0 }
                }
                continue
            }
            guard let block = current else { continue }
            if block.kind == "chain" {
                if line.hasPrefix("type ") || line.hasPrefix("comment \"") { continue }
                summary.rules[block.name, default: 0] += 1
            } else if inElements || line.hasPrefix("elements = {") {
                elementText += (inElements ? " " : "") + (inElements ? line : line.dropFirst("elements = {".count))
                inElements = !line.hasSuffix("}")
                if !inElements {
                    let body = elementText.dropLast().trimmingSpaces()
                    summary.elements[block.name] = body.isEmpty ? 0 : body.split(separator: ",").count
                    elementText = ""
                }
            }
        }
        return summary
    }
}

/// The cheap check that what the last nftables sync wrote is still in the table: the table's own
/// chains (base chains and helpers) hold rules, and every set and map holds as many elements as
/// the last sync left. That finds a flushed table and an emptied or damaged map; a Service chain
/// can only be deleted once nothing refers to it (an element goes first, which is found). A single
/// Service chain flushed in place is not looked at (counting every rule costs a full sync at 10k
/// Services): `swift-kube-proxy verify` finds it.
public enum NFTablesIntegrity {
    /// What differs from `memory` and the table's own chains, `fixedChains`, as log lines.
    public static func problems(_ summary: NFTTableSummary, memory: NFTablesMemory, fixedChains: Set<String>) -> [String] {
        var problems: [String] = []
        for chain in fixedChains.sorted() where (summary.rules[chain] ?? 0) == 0 {
            problems.append(summary.rules[chain] == nil ? "chain \(chain) is gone" : "chain \(chain) is empty")
        }
        for (container, elements) in memory.elements.sorted(by: { $0.key < $1.key }) where summary.elements[container] != elements.count {
            problems.append("\(container): \(summary.elements[container].map(String.init) ?? "no") elements, \(elements.count) written")
        }
        return problems
    }
}
