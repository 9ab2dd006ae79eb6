import ArgumentParser
import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging
import IPVSRules
import Netlink
import NFTablesRules

/// `bench`: measures, on this node's own kernel, what a new connection costs as the number of
/// Services grows, per dataplane, and what a sync costs. Works only inside namespaces it creates.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure new-connection cost and sync time versus the number of Services, per mode, in scratch network namespaces.")

    @Option(help: "Modes to measure (comma-separated): iptables-legacy, iptables-nft, iptables-legacy-tree, iptables-nft-tree, nftables (Service chains over netlink, as the daemon), nftables-maps (the same in the endpoint-maps layout), nftables-nft (everything through nft), nftables-upstream (one nft transaction per sync), ipvs (needs a kernel with IPVS: see vm/).")
    var modes = "iptables-legacy,iptables-nft,iptables-legacy-tree,iptables-nft-tree,nftables"
    @Option(help: "Service counts (comma-separated).") var services = "100,1000,5000,10000,30000"
    @Option(help: "Endpoints per Service.") var endpoints = 1
    @Option(help: "nftables modes: Service ports per transaction in large syncs.") var servicesPerTransaction = NFTablesDataplane.defaultServicesPerTransaction
    @Option(help: "Connections measured per target.") var samples = 2000
    @Flag(help: "A short run (100 and 1000 Services, 300 samples): under a minute.") var quick = false
    @Option(help: "Where to write bench.csv and bench.svg.") var output = "bench-results"

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("bench creates network namespaces: run it as root") }
        let counts = quick ? [100, 1000] : services.split(separator: ",").compactMap { Int($0) }
        let sampleCount = quick ? 300 : samples
        let modeList = modes.split(separator: ",").map(String.init)
        for m in modeList where !["iptables-legacy", "iptables-nft", "iptables-legacy-tree", "iptables-nft-tree", "nftables", "nftables-maps", "nftables-nft", "nftables-upstream", "ipvs"].contains(m) {
            throw ValidationError("--modes: unknown mode \(m)")
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let resolved = binary.hasPrefix("/") ? binary : FileManager.default.currentDirectoryPath + "/" + binary
        let lab = BenchLab(prefix: "skpb\(getpid())-", binary: resolved)
        let progress = BenchProgress()
        var rows: [BenchRow] = []
        for mode in modeList {
            for n in counts {
                do {
                    rows += try await measure(mode: mode, services: n, samples: sampleCount, lab: lab, progress: progress)
                } catch {
                    await lab.down()
                    progress.say("[\(mode)] \(n) services: failed: \(error)")
                }
            }
        }
        await lab.down()
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try BenchReport.csv(rows).write(toFile: output + "/bench.csv", atomically: true, encoding: .utf8)
        try BenchReport.svg(rows).write(toFile: output + "/bench.svg", atomically: true, encoding: .utf8)
        print(BenchReport.table(rows))
        print("wrote \(output)/bench.csv and \(output)/bench.svg")
    }

    func measure(mode: String, services n: Int, samples: Int, lab: BenchLab, progress: BenchProgress) async throws -> [BenchRow] {
        let ports = Array(8080..<(8080 + endpoints))
        progress.say("[\(mode)] \(n) services: creating namespaces")
        try await lab.up(ports: ports)
        let state = SyntheticCluster.state(services: n, endpoints: endpoints, nodeName: "bench-node") { _, e in
            Endpoint(ip: BenchLab.podIP, port: 8080 + e)
        }
        let runner = NamespacedRunner(namespace: lab.node, base: SubprocessCommandRunner())
        let backend: IPTablesBackend = mode.hasPrefix("iptables-legacy") || mode == "ipvs" ? .legacy : .nft
        let features = await HostFacts.kernelFeatures(backend: backend, runner: runner)
        var options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4),
                                              features: features)
        if mode.hasSuffix("-tree") { options.dispatch = .defaultTree }
        if mode == "nftables-maps" { options.common.nftablesLayout = .endpointMaps }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let clock = ContinuousClock()
        let proxier: any Proxier
        let compileStart = clock.now
        let size: Int, rules: Int
        if mode == "ipvs" {
            // IPVS in the node namespace: a netlink socket made there, sysctls and tools run there.
            let ipvs = try IPVSKernel(transport: try NetworkNamespace.run(in: lab.node) { try NetlinkSocket() })
            for sysctl in IPVSStartup.sysctls(kernelRelease: IPVSStartup.kernelRelease(), strictARP: false) {
                _ = try await runner.run("sysctl", ["-qw", "\(sysctl.path.replacingOccurrences(of: "/", with: "."))=\(sysctl.value)"])
            }
            let desired = IPVSPlanner(nodePortAddresses: []).desired(state)
            // "Rules" here: the netlink requests of a first sync (one per virtual and real server);
            // the bytes: what ipset and iptables-restore are given.
            rules = desired.virtualServers.values.map { 1 + $0.realServers.count }.reduce(0, +)
            size = IPSetRestore.script(desired: desired.setEntries, previous: nil, family: .ipv4).utf8.count
                + IPVSIPTablesRules.payload(desired, options: options.common, randomFully: options.features.randomFully, family: .ipv4).utf8.count
            proxier = IPVSProxier(ipvs: ipvs, iptables: IPTablesCommands(family: .ipv4, backend: .legacy, runner: runner), ipset: IPSetCommands(runner: runner),
                                  dummy: DummyInterface(runner: runner), options: options, localAddresses: { BenchLab.nodeAddresses }, logger: logger)
        } else if mode.hasPrefix("nftables") {
            let plan = NFTablesCompiler(options: options.common, family: .ipv4).compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
            size = plan.transaction.rendered().utf8.count
            rules = plan.transaction.count
            let commands = NFTCommands(runner: runner)
            let nft: any NFTablesInterface = mode == "nftables" || mode == "nftables-maps"
                ? NFTablesNetlinkWriter(nft: commands, socket: try NetworkNamespace.run(in: lab.node) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) })
                : commands
            proxier = NFTablesProxier(nft: nft, options: options, family: .ipv4,
                                      servicesPerTransaction: mode == "nftables-upstream" ? 0 : servicesPerTransaction, logger: logger)
        } else {
            let plan = IPTablesCompiler(options: options).compile(state, scope: .full, existingNATChains: [])
            size = plan.payload.utf8.count
            rules = plan.natRuleTotal + plan.filterRuleCount
            proxier = IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: backend, runner: runner), options: options, logger: logger)
        }
        let compile = clock.now - compileStart
        progress.say("[\(mode)] \(n) services: programming " + (mode == "ipvs" ? "(\(rules) netlink requests, \(size / 1024) KiB of ipset and iptables input)"
            : "(\(rules) \(mode.hasPrefix("nftables") ? "operations" : "rules"), \(size / 1024) KiB)"))
        let full = await proxier.sync(state)
        guard full.succeeded else { throw CommandError(executable: mode, detail: full.error ?? "sync failed") }
        if let ipvs = proxier as? IPVSProxier { progress.say("[\(mode)] \(n) services: full sync \(await ipvs.lastSteps)") }
        if let nft = proxier as? NFTablesProxier { progress.say("[\(mode)] \(n) services: full sync \(await nft.lastSteps)") }
        let update = await proxier.sync(SyntheticCluster.changingOneEndpoint(state, index: n / 2))
        guard update.succeeded else { throw CommandError(executable: mode, detail: update.error ?? "update failed") }
        if let ipvs = proxier as? IPVSProxier { progress.say("[\(mode)] \(n) services: one-endpoint sync \(await ipvs.lastSteps)") }
        if let nft = proxier as? NFTablesProxier { progress.say("[\(mode)] \(n) services: one-endpoint sync \(await nft.lastSteps)") }
        _ = await proxier.sync(state)
        var rows: [BenchRow] = []
        let targets: [(String, IPAddress, Int)] = [("first", SyntheticCluster.clusterIP(0), 80), ("middle", SyntheticCluster.clusterIP(n / 2), 80),
                                                   ("last", SyntheticCluster.clusterIP(n - 1), 80), ("non-service", BenchLab.podIP, 8080)]
        for (label, ip, port) in targets {
            progress.say("[\(mode)] \(n) services: \(samples) new connections to the \(label) \(label == "non-service" ? "destination" : "service")")
            let s = try await lab.latency(ip, port: port, samples: samples)
            rows.append(BenchRow(mode: mode, services: n, endpoints: endpoints, target: label, p50: s.p50, p90: s.p90, p99: s.p99,
                                 failures: s.failures, compileSeconds: compile.seconds, fullSyncSeconds: full.duration.seconds,
                                 updateSeconds: update.duration.seconds, payloadBytes: size, rules: rules))
        }
        await lab.down()
        return rows
    }

}

/// Progress lines on standard error (the table and files are the result).
final class BenchProgress: Sendable {
    func say(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }
}
