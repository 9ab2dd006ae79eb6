import ArgumentParser
import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Logging

/// `skp-lab partial-sync`: partial syncs equal full syncs, in any mode, where the test harness cannot
/// run Swift Testing (IPVS in the VM). In a namespace of its own, one proxier applies seeded random
/// changes (``RandomCluster``) as partial syncs; after each, `verify`'s machinery compares that
/// namespace with a fresh full sync in a scratch one. Then one stray entry must be seen as drift.
/// Prints `partial-sync: <mode> seed <n>: ...` lines; exits 1 on drift.
struct LabPartialSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "partial-sync",
                                                    abstract: "Random partial syncs, each compared with a fresh full sync (verify).")
    @Option(help: "ipvs, nftables, iptables-legacy or iptables-nft.") var mode = "ipvs"
    @Option(help: "The random seed.") var seed: UInt64 = 1
    @Option(help: "Partial syncs.") var steps = 25

    func run() async throws {
        let namespace = "skp-ps-\(getpid())-\(seed)"
        let host = SubprocessCommandRunner()
        guard try await host.run("ip", ["netns", "add", namespace]).succeeded else { throw ValidationError("cannot add namespace \(namespace)") }
        do {
            try await check(in: namespace, host: host)
        } catch {
            _ = try? await host.run("ip", ["netns", "del", namespace])
            throw error
        }
        _ = try? await host.run("ip", ["netns", "del", namespace])
    }

    /// The random partial syncs and their comparisons, in `namespace`.
    func check(in namespace: String, host: any CommandRunner) async throws {
        var quiet = Logger(label: "lab")
        quiet.logLevel = .error
        let runner = NamespacedRunner(namespace: namespace, base: host)
        let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        let backend: IPTablesBackend = mode == "iptables-nft" ? .nft : .legacy
        let verifyMode: ProxyMode = mode.hasPrefix("iptables") ? .iptables : mode == "ipvs" ? .ipvs : .nftables
        let ipvs = verifyMode == .ipvs ? try IPVSKernel(transport: try NetworkNamespace.run(in: namespace) { try NetlinkSocket() }) : nil
        let proxier = try ProxierFactory(mode: verifyMode, backend: backend, runner: runner, ipvs: ipvs).make(options: options, family: .ipv4, logger: quiet)
        let verifier = Verifier(runner: runner, logger: quiet)
        var cluster = RandomCluster(seed: seed)
        var state = cluster.initial()
        guard await proxier.sync(state).succeeded else { throw ValidationError("the first sync failed") }
        var partials = 0
        for step in 0..<steps {
            let changes = cluster.change(&state)
            let outcome = await proxier.sync(state)
            if !outcome.full && outcome.succeeded { partials += 1 }
            let drift = try await verifier.differences(mode: verifyMode, state: state, options: options, backend: backend)
            guard outcome.succeeded, drift.isEmpty else {
                print("partial-sync: \(mode) seed \(seed) step \(step) after \(changes): \(outcome.error ?? "") drift \(drift)")
                throw ExitCode(1)
            }
        }
        let stray = switch mode {
        case "ipvs": "ipset add KUBE-CLUSTER-IP 198.18.255.254,tcp:1"
        case "nftables": "nft add element ip kube-proxy cluster-ips { 198.18.255.254 }"
        default: "\(backend.binary("iptables", family: .ipv4)) -t nat -A KUBE-MARK-MASQ -j RETURN"
        }
        let args = stray.split(separator: " ").map(String.init)
        _ = try await runner.run(args[0], Array(args.dropFirst()))
        let strayDrift = try await verifier.differences(mode: verifyMode, state: state, options: options, backend: backend)
        print("partial-sync: \(mode) seed \(seed): \(partials) of \(steps) partial syncs, no drift; a stray entry: \(strayDrift.count) difference\(strayDrift.count == 1 ? "" : "s")")
        if partials != steps || strayDrift.count != 1 { throw ExitCode(1) }
    }
}
