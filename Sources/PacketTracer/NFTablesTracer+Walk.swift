import KubeProxyModel
import NFTablesRules

extension NFTablesTracer {
    struct Walk {
        let tracer: NFTablesTracer
        var packet: Packet
        var verdict: String?
        var candidates: [TraceResult.Candidate] = []
        var masquerade = false
        var rulesEvaluated = 0
        var steps: [TraceStep] = []

        init(tracer: NFTablesTracer, packet: Packet) {
            self.tracer = tracer
            self.packet = packet
        }

        /// How a chain ended.
        enum Exit { case fellThrough, returned, accepted, dropped(String) }

        /// Runs the base chains of `hook` and `type` with priority in `from..<below`, in priority order.
        mutating func runHook(_ hook: String, type: String, below: Int, from: Int = Int.min) {
            let bases = tracer.table.chainNames.compactMap { name -> (String, Int)? in
                guard let base = tracer.table.chains[name]?.base, base.hook == hook, base.type == type,
                      base.priority >= from, base.priority < below else { return nil }
                return (name, base.priority)
            }.sorted { $0.1 < $1.1 }
            for (name, _) in bases {
                if case .dropped(let v) = run(name, depth: 0, weight: 1, counting: true) { verdict = v; return }
            }
        }

        mutating func run(_ chain: String, depth: Int, weight: Double, counting: Bool) -> Exit {
            guard let rules = tracer.table.chains[chain]?.rules else { return .fellThrough }
            steps.append(TraceStep(kind: .chain, table: tracer.table.table, chain: chain, depth: depth, note: "enter \(chain)"))
            for rule in rules {
                if counting { rulesEvaluated += 1 }
                switch evaluate(rule, chain: chain, depth: depth, weight: weight, counting: counting) {
                case .next: continue
                case .exit(let exit): return exit
                }
            }
            return .fellThrough
        }

        enum Step { case next, exit(Exit) }

        mutating func note(_ chain: String, _ depth: Int, _ rule: String, matched: Bool, _ text: String) {
            steps.append(TraceStep(kind: .rule, table: tracer.table.table, chain: chain, depth: depth, rule: rule, matched: matched, note: text))
        }

        /// Follows a verdict (`jump X`, `goto X`, `drop`, `accept`, `return`).
        mutating func follow(_ verdict: String, chain: String, depth: Int, weight: Double, counting: Bool) -> Step {
            let words = verdict.split(separator: " ").map(String.init)
            switch words.first {
            case "jump":
                let exit = run(words[1], depth: depth + 1, weight: weight, counting: counting)
                switch exit {
                case .fellThrough, .returned: return .next
                default: return .exit(exit)
                }
            case "goto":
                let exit = run(words[1], depth: depth + 1, weight: weight, counting: counting)
                if case .returned = exit { return .exit(.fellThrough) }
                return .exit(exit)
            case "drop": return .exit(.dropped("DROP"))
            case "accept": return .exit(.accepted)
            case "return": return .exit(.returned)
            default: return .next
            }
        }
    }
}
