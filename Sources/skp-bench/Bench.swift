import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import NFTablesRules
import Logging

/// The benchmarks of the iptables dataplane (`make bench`): compile times, and, when run inside
/// a scratch network namespace (bench/bench.sh does that), our apply against a bare iptables-restore.
@main
struct Bench {
    static func timeAsync<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try await body()
        return (value, (clock.now - start).seconds)
    }

    static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try body()
        return (value, (clock.now - start).seconds)
    }

    static func options() -> IPTablesCompilerOptions {
        IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.19.0.0/16")!), nodePortAddresses: NodePortAddresses([], family: .ipv4),
                                features: KernelFeatures(randomFully: true))
    }

    static func main() async throws {
        let args = CommandLine.arguments
        let sizes = (args.firstIndex(of: "--sizes").map { args[$0 + 1] } ?? "1000,10000,30000").split(separator: ",").compactMap { Int($0) }
        let apply = args.contains("--apply")
        let backend = IPTablesBackend(rawValue: args.firstIndex(of: "--backend").map { args[$0 + 1] } ?? "legacy") ?? .legacy
        let compiler = IPTablesCompiler(options: options())
        if let i = args.firstIndex(of: "--nftables-compile") {
            // Compile times of the nftables mode: full, and partial after one endpoint change.
            let spec = args[i + 1].split(separator: "x").compactMap { Int($0) }
            let state = SyntheticCluster.state(services: spec[0], endpoints: spec.count > 1 ? spec[1] : 10)
            var common = options().common
            // SKP_NFTABLES_LAYOUT=endpoint-maps: the opt-in layout's compile times.
            common.nftablesLayout = NFTablesLayout(rawValue: ProcessInfo.processInfo.environment["SKP_NFTABLES_LAYOUT"] ?? "") ?? .upstream
            let nft = NFTablesCompiler(options: common, family: .ipv4)
            let (full, fullTime) = time { nft.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: []) }
            let changed = SyntheticCluster.changingOneEndpoint(state, index: spec[0] / 2)
            let (changedSet, diffTime) = time { changed.changedServices(since: state) }
            let repeats = Int(ProcessInfo.processInfo.environment["SKP_REPEAT"] ?? "1") ?? 1
            var (partial, partialTime) = time {
                nft.compile(changed, scope: .partial(changedServices: changedSet), previous: full.memory, existingChains: full.activeChains, existingSets: [])
            }
            for _ in 1..<max(1, repeats) {
                (partial, partialTime) = time {
                    nft.compile(changed, scope: .partial(changedServices: changedSet), previous: full.memory, existingChains: full.activeChains, existingSets: [])
                }
            }
            let (_, renderTime) = time { partial.transaction.rendered() }
            print("full compile \(fullTime) s; changedServices \(diffTime) s; partial compile \(partialTime) s (\(partial.transaction.count) ops); render \(renderTime) s")
            return
        }
        if let i = args.firstIndex(of: "--integrity-cost") {
            let spec = args[i + 1].split(separator: "x").compactMap { Int($0) }
            try await IntegrityCost.run(services: spec[0], endpoints: spec.count > 1 ? spec[1] : 10)
            return
        }
        if let i = args.firstIndex(of: "--nftables-element-cost") {
            let spec = args[i + 1].split(separator: "x").compactMap { Int($0) }
            try await ElementCost.run(services: spec[0], endpoints: spec.count > 1 ? spec[1] : 10)
            return
        }
        if let i = args.firstIndex(of: "--dump-nftables") {
            // The full nftables transaction for N services x E endpoints, for experiments with nft.
            let spec = args[i + 1].split(separator: "x").compactMap { Int($0) }
            let state = SyntheticCluster.state(services: spec[0], endpoints: spec.count > 1 ? spec[1] : 10)
            let plan = NFTablesCompiler(options: options().common, family: .ipv4).compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
            print(plan.transaction.rendered(), terminator: "")
            return
        }
        if !args.contains("--apply-only") { compileTable(sizes: sizes, compiler: compiler) }
        guard apply else { return }
        try await applyTable(sizes: sizes, backend: backend, compiler: compiler)
    }

    static func compileTable(sizes: [Int], compiler: IPTablesCompiler) {
        print("## Compile (ClusterIP services x 10 endpoints, release build)")
        print("| services | nat rules | payload MB | full compile s | partial compile s (1 endpoint changed) | full/partial |")
        print("| --- | --- | --- | --- | --- | --- |")
        for n in sizes {
            let state = SyntheticCluster.state(services: n, endpoints: 10)
            let (full, fullTime) = time { compiler.compile(state, scope: .full, existingNATChains: []) }
            let changed = SyntheticCluster.changingOneEndpoint(state)
            let (_, partialTime) = time {
                compiler.compile(changed, scope: .partial(changedServices: changed.changedServices(since: state)), existingNATChains: full.activeNATChains, previous: full)
            }
            print("| \(n) | \(full.natRuleTotal) | \(String(format: "%.1f", Double(full.payload.utf8.count) / 1e6)) | \(String(format: "%.3f", fullTime)) | \(String(format: "%.4f", partialTime)) | \(String(format: "%.0f", fullTime / partialTime)) |")
        }
    }

    static func applyTable(sizes: [Int], backend: IPTablesBackend, compiler: IPTablesCompiler) async throws {
        print("\n## Apply inside this network namespace (\(backend.rawValue) backend): swift-kube-proxy sync vs bare iptables-restore of the same payload")
        print("| services | sync | ours s | bare iptables-restore s | ours/bare |")
        print("| --- | --- | --- | --- | --- |")
        let runner = SubprocessCommandRunner()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        for n in sizes {
            let state = SyntheticCluster.state(services: n, endpoints: 10)
            let iptables = IPTablesCommands(family: .ipv4, backend: backend, runner: runner)
            try await clean(iptables, runner: runner)
            // Bare: the same full payload, straight into empty tables.
            let payload = compiler.compile(state, scope: .full, existingNATChains: []).payload
            let bareStart = ContinuousClock.now
            try await iptables.restore(payload)
            let bareFull = (ContinuousClock.now - bareStart).seconds
            try await clean(iptables, runner: runner)
            // Ours: a fresh proxier's first sync (jump rules, canary, stale-chain scan, restore).
            let proxier = IPTablesProxier(iptables: iptables, options: options(), logger: logger)
            let oursFull = await proxier.sync(state).duration.seconds
            // One endpoint changed: our partial sync vs the bare restore of that partial payload.
            let changed = SyntheticCluster.changingOneEndpoint(state)
            let oursPartial = await proxier.sync(changed).duration.seconds
            // The same partial payload again, bare (its ":CHAIN" lines recreate what its "-X" lines delete).
            let partialPayload = await proxier.dataplane.lastPlan?.payload ?? ""
            let bareStart2 = ContinuousClock.now
            try await iptables.restore(partialPayload)
            let barePartial = (ContinuousClock.now - bareStart2).seconds
            print("| \(n) | full | \(String(format: "%.3f", oursFull)) | \(String(format: "%.3f", bareFull)) | \(String(format: "%.2f", oursFull / bareFull)) |")
            print("| \(n) | partial (1 endpoint) | \(String(format: "%.3f", oursPartial)) | \(String(format: "%.3f", barePartial)) | \(String(format: "%.2f", oursPartial / barePartial)) |")
            try await clean(iptables, runner: runner)
        }
    }

    static func clean(_ iptables: IPTablesCommands, runner: any CommandRunner) async throws {
        var save = ""
        for table in ["mangle", "filter", "nat"] { save += try await iptables.save(table: table) }
        if let payload = try IPTablesCleanup.payload(save: save) { try await iptables.restore(payload) }
    }
}
