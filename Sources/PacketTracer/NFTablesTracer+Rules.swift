import KubeProxyModel
import NFTablesRules

extension NFTablesTracer.Walk {
    /// Evaluates one rule of the shapes kube-proxy writes: leading match clauses, then an action.
    mutating func evaluate(_ rule: String, chain: String, depth: Int, weight: Double, counting: Bool) -> Step {
        var words = rule.split(separator: " ").map(String.init)
        if let c = words.firstIndex(of: "comment") { words = Array(words[..<c]) }
        var i = 0
        // Match clauses.
        while i < words.count {
            let rest = Array(words[i...])
            if rest.starts(with: ["ct", "state", "new"]) { i += 3; continue }
            if rest.starts(with: ["ct", "status", "dnat"]) {
                guard !candidates.isEmpty else { note(chain, depth, rule, matched: false, "no match: not DNATed"); return .next }
                i += 3
                continue
            }
            if rest.count >= 6, ["ip", "ip6"].contains(rest[0]), rest[1] == "saddr", rest[2] == ".", rest[4] == "daddr", rest[5].hasPrefix("@") {
                // ip saddr . ip daddr @endpoint-hairpin: some endpoint chosen is the source itself.
                if counting { rulesEvaluated += 1 }
                let set = String(rest[5].dropFirst()), source = packet.source
                let hairpin = candidates.contains { IPTablesTracer.host(of: $0.endpoint) == source }
                    && tracer.table.containers[set]?.elements["\(source) . \(source)"] != nil
                if !hairpin { note(chain, depth, rule, matched: false, "no match: no endpoint chosen is \(source)"); return .next }
                i += 6
                continue
            }
            if rest.count >= 3, ["ip", "ip6"].contains(rest[0]), ["saddr", "daddr"].contains(rest[1]) {
                let address = rest[1] == "saddr" ? packet.source : packet.destination
                if rest[2] == "." { break } // a concatenated vmap key follows
                var j = 2
                var negate = false
                if rest[j] == "!=" { negate = true; j += 1 }
                var matched: Bool
                if rest[j].hasPrefix("@") {
                    if counting { rulesEvaluated += 1 }
                    let set = String(rest[j].dropFirst())
                    matched = tracer.table.containers[set]?.elements[address.description] != nil
                    if set.hasPrefix("affinity-") { matched = false } // no affinity entry for a first packet
                    j += 1
                } else if rest[j] == "{" {
                    let close = rest[j...].firstIndex(of: "}") ?? rest.count - 1
                    let items = rest[(j + 1)..<close].map { $0.trimmingCharacters(in: [","]) }.filter { !$0.isEmpty }
                    matched = items.contains { Self.contains($0, address) }
                    j = close + 1
                } else {
                    matched = Self.contains(rest[j], address)
                    j += 1
                }
                if matched == negate {
                    note(chain, depth, rule, matched: false, "no match: \(rest[0..<j].joined(separator: " "))")
                    return .next
                }
                i += j
                continue
            }
            if rest.starts(with: ["fib"]) && rest.count >= 4 {
                let address = rest[1] == "saddr" ? packet.source : packet.destination
                if !tracer.localAddresses.contains(address) {
                    note(chain, depth, rule, matched: false, "no match: fib \(rest[1]) type local")
                    return .next
                }
                i += 4
                continue
            }
            break
        }
        let action = Array(words[i...])
        let text = action.joined(separator: " ")
        // Actions.
        if action.starts(with: ["ip"]) || action.starts(with: ["ip6"]) || action.starts(with: ["meta", "l4proto", ".", "th", "dport", "vmap"]) {
            // [ip daddr .] meta l4proto . th dport vmap @map
            guard let at = action.firstIndex(of: "vmap"), at + 1 < action.count else { return .next }
            let map = String(action[at + 1].dropFirst())
            let key = action.first == "meta" ? "\(packet.protocol.lowercased) . \(packet.destinationPort)"
                : "\(packet.destination) . \(packet.protocol.lowercased) . \(packet.destinationPort)"
            if counting { rulesEvaluated += 1 }
            guard let value = tracer.table.containers[map]?.elements[key]?.value else {
                note(chain, depth, rule, matched: false, "lookup @\(map) [\(key)]: no element")
                return .next
            }
            note(chain, depth, rule, matched: true, "lookup @\(map) [\(key)] → \(value)")
            return follow(value, chain: chain, depth: depth, weight: weight, counting: counting)
        }
        switch action.first {
        case "numgen":
            // numgen random mod N vmap { 0 : goto A , 1 : goto B }
            let targets = action.enumerated().compactMap { $0.element == "goto" && $0.offset + 1 < action.count ? action[$0.offset + 1] : nil }
            note(chain, depth, rule, matched: true, "random choice among \(targets.count) endpoint chains, each \(Self.percent(weight / Double(max(targets.count, 1))))")
            for (n, target) in targets.enumerated() {
                _ = run(target, depth: depth + 1, weight: weight / Double(targets.count), counting: counting && n == targets.count - 1)
            }
            return .exit(.accepted)
        case "mark":
            if action.starts(with: ["mark", "set", "mark", "or"]) { masquerade = true; note(chain, depth, rule, matched: true, "mark for masquerade"); return .next }
            if action.starts(with: ["mark", "and"]) {
                if !masquerade { note(chain, depth, rule, matched: true, "not marked: return"); return .exit(.returned) }
                note(chain, depth, rule, matched: false, "marked")
                return .next
            }
            note(chain, depth, rule, matched: true, text)
            return .next
        case "masquerade":
            note(chain, depth, rule, matched: true, "masquerade (source NAT to the outgoing address)")
            return .exit(.accepted)
        case "meta":
            if let to = action.firstIndex(of: "to"), to + 1 < action.count, action[to + 1] == "numgen",
               let at = action.firstIndex(of: "map"), at + 1 < action.count {
                return chooseFromEndpointMap(String(action[at + 1].dropFirst()), chain: chain, depth: depth, rule: rule, weight: weight, counting: counting)
            }
            if let to = action.firstIndex(of: "to"), to + 1 < action.count {
                candidates.append(.init(endpoint: action[to + 1], probability: weight, chain: chain))
                note(chain, depth, rule, matched: true, "DNAT to \(action[to + 1])")
                return .exit(.accepted)
            }
            return .next
        case "update":
            note(chain, depth, rule, matched: true, "remember the client for affinity")
            return .next
        case "reject":
            note(chain, depth, rule, matched: true, "REJECT")
            return .exit(.dropped("REJECT"))
        case "drop":
            note(chain, depth, rule, matched: true, "DROP")
            return .exit(.dropped("DROP"))
        case "jump", "goto", "return", "accept":
            note(chain, depth, rule, matched: true, text)
            return follow(text, chain: chain, depth: depth, weight: weight, counting: counting)
        default:
            note(chain, depth, rule, matched: true, "(not interpreted) \(text)")
            return .next
        }
    }

    /// `dnat to numgen random mod N map @m` (the `endpoint-maps` layout): each `first-last : address . port`
    /// element is a candidate with its share of the N slots.
    mutating func chooseFromEndpointMap(_ map: String, chain: String, depth: Int, rule: String, weight: Double, counting: Bool) -> Step {
        if counting { rulesEvaluated += 1 }
        let container = tracer.table.containers[map]
        let slots = Double(NFTablesCompiler.endpointSlots)
        var chosen: [(String, Double)] = []
        for key in container?.keys ?? [] {
            let bounds = key.split(separator: "-").compactMap { Int($0) }
            let parts = container?.elements[key]?.value?.components(separatedBy: " . ") ?? []
            guard bounds.count == 2, parts.count == 2, let ip = IPAddress(sloppy: parts[0]) else { continue }
            let endpoint = ip.family == .ipv6 ? "[\(parts[0])]:\(parts[1])" : "\(parts[0]):\(parts[1])"
            chosen.append((endpoint, weight * Double(bounds[1] - bounds[0] + 1) / slots))
        }
        guard !chosen.isEmpty else {
            note(chain, depth, rule, matched: false, "lookup @\(map): no element")
            return .next
        }
        note(chain, depth, rule, matched: true, "random choice among \(chosen.count) endpoints in @\(map)")
        for (endpoint, probability) in chosen {
            candidates.append(.init(endpoint: endpoint, probability: probability, chain: chain))
            note(chain, depth + 1, rule, matched: true, "DNAT to \(endpoint), \(Self.percent(probability))")
        }
        return .exit(.accepted)
    }

    static func contains(_ text: String, _ ip: IPAddress) -> Bool {
        text.contains("/") ? (CIDR(sloppy: text)?.contains(ip) ?? false) : IPAddress(sloppy: text) == ip
    }

    static func percent(_ p: Double) -> String { "\((p * 1000).rounded() / 10)%" }
}
