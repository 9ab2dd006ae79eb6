import IPTablesRules
import KubeProxyCore
import KubeProxyModel

extension IPTablesTracer {
    /// The mutable state of one trace.
    struct Walk {
        let tracer: IPTablesTracer
        var packet: Packet
        var outputs: [String] = []
        var candidates: [TraceResult.Candidate] = []
        var masquerade = false
        var rulesEvaluated = 0
        var steps: [TraceStep] = []

        init(tracer: IPTablesTracer, packet: Packet) {
            self.tracer = tracer
            self.packet = packet
        }

        /// Runs `chain`; returns whether it ended in a terminal verdict. `weight` is the probability
        /// of reaching it; `counting` is false inside branches a random match may skip.
        mutating func run(table: String, chain: String, depth: Int, weight: Double, counting: Bool) -> Bool {
            guard let rules = tracer.dump.table(table)?.chain(chain)?.rules else { return false }
            steps.append(TraceStep(kind: .chain, table: table, chain: chain, depth: depth, note: "enter \(table) \(chain)"))
            var remaining = weight
            for rule in rules {
                if counting { rulesEvaluated += 1 }
                if let miss = mismatch(rule) {
                    steps.append(step(table, chain, depth, rule, matched: false, "no match: \(miss)"))
                    continue
                }
                guard let target = rule.target else {
                    steps.append(step(table, chain, depth, rule, matched: true, "matched; no target, continue"))
                    continue
                }
                let probability = rule.value(after: "--probability").flatMap(Double.init)
                switch target {
                case "KUBE-MARK-MASQ":
                    masquerade = true
                    steps.append(step(table, chain, depth, rule, matched: true, "mark for masquerade, continue"))
                case "ACCEPT", "REJECT", "DROP":
                    outputs.append(target)
                    steps.append(step(table, chain, depth, rule, matched: true, target))
                    return true
                case "DNAT":
                    let to = rule.value(after: "--to-destination") ?? "?"
                    outputs.append(to)
                    candidates.append(.init(endpoint: to, probability: weight, chain: chain))
                    steps.append(step(table, chain, depth, rule, matched: true, "DNAT to \(to)"))
                    return true
                case "RETURN":
                    steps.append(step(table, chain, depth, rule, matched: true, "return"))
                    return false
                default:
                    let share = remaining * (probability ?? 1)
                    let note = probability.map { "jump \(target) with probability \($0) (overall \(Self.percent(share)))" } ?? "jump \(target)"
                    steps.append(step(table, chain, depth, rule, matched: true, note))
                    let terminated = run(table: table, chain: target, depth: depth + 1, weight: share,
                                         counting: counting && probability == nil)
                    if let probability { remaining *= 1 - probability }
                    if terminated && probability == nil { return true }
                }
            }
            return false
        }

        func step(_ table: String, _ chain: String, _ depth: Int, _ rule: IPTablesRule, matched: Bool, _ note: String) -> TraceStep {
            TraceStep(kind: .rule, table: table, chain: chain, depth: depth, rule: rule.line, matched: matched, note: note)
        }

        static func percent(_ p: Double) -> String {
            let scaled = (p * 1000).rounded() / 10
            return "\(scaled)%"
        }

        /// Why `rule` does not match the packet, or nil when it matches.
        func mismatch(_ rule: IPTablesRule) -> String? {
            if let (value, negated) = rule.negatableValue(after: "-s"), matches(packet.source, value) == negated { return "-s \(value)" }
            if let (value, negated) = rule.negatableValue(after: "--src-type"),
               (value == "LOCAL" && tracer.localAddresses.contains(packet.source)) == negated { return "--src-type \(value)" }
            if let (value, negated) = rule.negatableValue(after: "-p"), (value == packet.protocol.lowercased) == negated { return "-p \(value)" }
            if let (value, negated) = rule.negatableValue(after: "-d"), matches(packet.destination, value) == negated { return "-d \(value)" }
            if let (value, negated) = rule.negatableValue(after: "--dst-type"),
               (value == "LOCAL" && tracer.localAddresses.contains(packet.destination)) == negated { return "--dst-type \(value)" }
            if let (value, negated) = rule.negatableValue(after: "--dport"), (value == String(packet.destinationPort)) == negated { return "--dport \(value)" }
            if let name = rule.value(after: "--match-set") {
                guard let set = tracer.ipsets[name], let i = rule.words.firstIndex(of: name), i + 1 < rule.words.count else { return "--match-set \(name) (unknown set)" }
                let negated = i >= 2 && rule.words[i - 2] == "!"
                if set.contains(packet, directions: rule.words[i + 1]) == negated { return "--match-set \(name) \(rule.words[i + 1])" }
            }
            if rule.has("--rcheck") { return "no affinity entry yet (first connection)" }
            if rule.has("--mark") { return "--mark (the packet carries no mark yet)" }
            if let (value, negated) = rule.negatableValue(after: "--ctstate"), value.split(separator: ",").contains("NEW") == negated {
                return "--ctstate \(value) (a first packet is NEW)"
            }
            return nil
        }

        func matches(_ ip: IPAddress, _ text: String) -> Bool {
            if text.contains("/") { return CIDR(sloppy: text)?.contains(ip) ?? false }
            return IPAddress(sloppy: text) == ip
        }
    }
}
