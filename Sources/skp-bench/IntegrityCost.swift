import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging

/// `skp-bench --integrity-cost NxE` (run inside a scratch network namespace): programs N Services ×
/// E endpoints in iptables mode (legacy backend) and in nftables mode, then times the periodic
/// integrity check (`checkIntegrity`) against the full sync that programmed it, median of 5.
enum IntegrityCost {
    static func run(services: Int, endpoints: Int, samples: Int = 5) async throws {
        let runner = SubprocessCommandRunner()
        var logger = Logger(label: "skp-bench")
        logger.logLevel = .error
        let state = SyntheticCluster.state(services: services, endpoints: endpoints)
        let proxiers: [(String, any Proxier)] = [
            ("iptables (legacy, reading the rules)", IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: .legacy, runner: runner), options: Bench.options(), logger: logger)),
            ("iptables (legacy, entry counts first)", IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: .legacy, runner: runner), options: Bench.options(),
                                                                      tableEntries: { XTablesInfo.entries(table: $0, family: .ipv4) }, logger: logger)),
            ("nftables", NFTablesProxier(nft: try NFTablesNetlinkWriter(nft: NFTCommands(runner: runner), logger: logger), options: Bench.options(), family: .ipv4, logger: logger)),
        ]
        for (mode, proxier) in proxiers {
            let sync = await proxier.sync(state)
            guard sync.succeeded else { throw CommandError(executable: mode, detail: sync.error ?? "sync failed") }
            var checks: [Double] = []
            for _ in 0..<samples {
                let (intact, seconds) = await Bench.timeAsync { await proxier.checkIntegrity() }
                guard intact else { throw CommandError(executable: mode, detail: "the integrity check failed on an untouched table") }
                checks.append(seconds)
            }
            let check = checks.sorted()[checks.count / 2], full = sync.duration.seconds
            print(String(format: "integrity check, %@, %dx%d: %.3f s; full sync %.3f s; check/full %.3f", mode, services, endpoints, check, full, check / full))
            if mode.hasPrefix("iptables") {
                // The floor: reading the tables at all.
                let (_, save) = try await Bench.timeAsync {
                    for table in ["nat", "filter"] { _ = try await runner.run("iptables-legacy-save", ["-t", table]) }
                }
                print(String(format: "  of which iptables-legacy-save -t nat and -t filter alone: %.3f s", save))
            }
        }
        _ = try? await runner.run("nft", ["delete", "table", "ip", "kube-proxy"])
    }
}
