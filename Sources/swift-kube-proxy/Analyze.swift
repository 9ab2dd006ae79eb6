import ArgumentParser
import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import NFTablesRules
import PacketTracer

/// `analyze`: for a cluster, how many rules each mode writes and how many a new connection to each
/// Service evaluates; with a `bench` result, the predicted cost, and where iptables exceeds a budget.
struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rule counts and the per-connection rule walk of each mode for a cluster, with predicted costs from a bench result.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var host: HostOptions
    @Option(name: .customLong("bench-results"), help: "A bench.csv written by `swift-kube-proxy bench` on this node.")
    var benchResults: String?
    @Option(name: .customLong("budget-us"), help: "The added cost per new connection you accept, in µs.")
    var budget: Double = 100

    struct ModeFigures {
        var mode: String, rules: Int, chains: Int, minWalk: Int, meanWalk: Double, maxWalk: Int
    }

    func run() async throws {
        let config = try proxy.configuration()
        let manifests = try proxy.loadManifests()
        let features = try await host.features(backend: .nft, runner: SubprocessCommandRunner())
        var inputs = ProxierInputs(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                   hostAddresses: try host.addresses(), features: features)
        let source: IPAddress = {
            if case .cidr(let c) = inputs.options.localDetector, case .v4(let a) = c.address { return .v4(a + 2) }
            return inputs.state.family == .ipv4 ? .v4(0xCB00_7101) : .v6(0x2001_0002_0000_0000, 1)
        }()
        let packets = inputs.state.sortedServicePortNames.compactMap { name -> Packet? in
            guard let svc = inputs.state.services[name] else { return nil }
            return Packet(source: source, destination: svc.clusterIP, destinationPort: svc.port, protocol: svc.protocol)
        }
        guard !packets.isEmpty else { throw ValidationError("--manifests: no Service of the primary family") }
        func walk(_ counts: [Int]) -> (Int, Double, Int) { (counts.min() ?? 0, Double(counts.reduce(0, +)) / Double(max(counts.count, 1)), counts.max() ?? 0) }

        var figures: [ModeFigures] = []
        for dispatch in [IPTablesDispatch.flat, .defaultTree] {
            inputs.options.dispatch = dispatch
            let plan = IPTablesCompiler(options: inputs.options).compile(inputs.state, scope: .full, existingNATChains: [])
            let tracer = IPTablesTracer(dump: try inputs.kernelView(), localAddresses: Set(try host.addresses()))
            let (lo, mean, hi) = walk(packets.map { tracer.trace($0, fromThisHost: false).rulesEvaluated })
            let dump = try IPTablesDump(parsing: plan.payload)
            figures.append(ModeFigures(mode: dispatch == .flat ? "iptables" : "iptables (tree)", rules: plan.natRuleTotal + plan.filterRuleCount,
                                       chains: dump.tables.reduce(0) { $0 + $1.chains.count }, minWalk: lo, meanWalk: mean, maxWalk: hi))
        }
        inputs.options.dispatch = .flat
        for layout in NFTablesLayout.allCases {
            inputs.options.common.nftablesLayout = layout
            let table = try inputs.firstSyncNFTablesState()
            let nftTracer = NFTablesTracer(table: table, localAddresses: Set(try host.addresses()))
            let (lo, mean, hi) = walk(packets.map { nftTracer.trace($0, fromThisHost: false).rulesEvaluated })
            figures.append(ModeFigures(mode: layout == .upstream ? "nftables" : "nftables (endpoint-maps)",
                                       rules: table.chainNames.reduce(0) { $0 + (table.chains[$1]?.rules.count ?? 0) },
                                       chains: table.chainNames.count, minWalk: lo, meanWalk: mean, maxWalk: hi))
        }

        let perRule = try benchResults.map(Self.fittedRuleCost)
        print("cluster: \(packets.count) Service ports (\(inputs.state.family.rawValue)); walk = rules a new connection from a pod evaluates")
        print("| mode | rules | chains | walk min | walk mean | walk max |" + (perRule == nil ? "" : " predicted added µs (mean / max) |"))
        print("|---|---|---|---|---|---|" + (perRule == nil ? "" : "---|"))
        for f in figures {
            var line = "| \(f.mode) | \(f.rules) | \(f.chains) | \(f.minWalk) | \(String(format: "%.1f", f.meanWalk)) | \(f.maxWalk) |"
            if let c = perRule { line += " \(String(format: "%.1f", c * f.meanWalk / 1000)) / \(String(format: "%.1f", c * Double(f.maxWalk) / 1000)) |" }
            print(line)
        }
        if let c = perRule {
            let flat = figures[0]
            let addresses = Double(packets.count)
            let limit = budget * 1000 / c
            let verdict = Double(flat.maxWalk) * c / 1000 > budget
                ? "already costs more than \(Int(budget)) µs per new connection to its last Service (\(flat.maxWalk) rules)"
                : "stays under \(Int(budget)) µs per new connection up to about \(Int(limit)) KUBE-SERVICES rules (it has \(Int(addresses)) Service ports now)"
            print("At \(String(format: "%.1f", c)) ns per rule measured on this node, iptables mode \(verdict).")
        } else {
            print("Give --bench-results bench.csv (from `swift-kube-proxy bench`) to turn rule counts into µs on this node.")
        }
    }

    /// ns per KUBE-SERVICES rule: (p50 last − p50 first) / (services − 1) of the flat iptables rows
    /// with the most Services.
    static func fittedRuleCost(_ path: String) throws -> Double {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        let flat = rows.filter { $0.count > 4 && ($0[0] == "iptables-legacy" || $0[0] == "iptables-nft") }
        guard let n = flat.compactMap({ Int($0[1]) }).max(), n > 1,
              let first = flat.first(where: { $0[1] == String(n) && $0[3] == "first" }).flatMap({ Double($0[4]) }),
              let last = flat.first(where: { $0[1] == String(n) && $0[3] == "last" }).flatMap({ Double($0[4]) }) else {
            throw ValidationError("--bench-results: \(path) has no flat iptables rows with first and last targets")
        }
        return max(0, (last - first) * 1000 / Double(n - 1))
    }
}
