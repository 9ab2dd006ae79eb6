import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging
import Synchronization
import Testing

/// Tampering that keeps the canary is repaired within one syncPeriod: the proxy runs with a
/// 2 s syncPeriod in the lab, something outside damages its rules, and traffic must come back
/// by itself, the log naming what was found.
@Suite("Kernel: tampering is repaired within a syncPeriod", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct TamperKernelTests {
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    /// Damages the rules with `command` in the node namespace, checks web (ClusterIP, from a pod)
    /// is broken by it, then that it answers again within `seconds`.
    func damageAndRepair(_ lab: Lab, _ what: String, _ command: String, seconds: Double = 8) throws {
        let damage = lab.inNamespace("node", "bash -c '\(command)'")
        #expect(damage.status == 0, "\(what): \(damage.output)")
        let broken = lab.probe(from: "client", dst: "198.18.10.10", port: 80, timeout: 300)
        #expect(!Self.pods.contains(broken.first ?? ""), "\(what) breaks web (or the repair was already there): \(broken)")
        try lab.waitFor("\(what) repaired", seconds: seconds) {
            Self.pods.contains(lab.probe(from: "client", dst: "198.18.10.10", port: 80, timeout: 300).first ?? "")
        }
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 30)) == Self.pods, "\(what): every pod again")
    }

    @Test("iptables (legacy): a flushed nat table with the canary kept, a removed jump, flushed Service chains")
    func iptables() throws {
        let lab = try Lab(prefix: "kta")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(flags: "--manifests '\(lab.manifestPath)' --proxy-mode iptables --iptables-backend legacy --iptables-sync-period 2s")
        try damageAndRepair(lab, "iptables -t nat -F", "iptables-legacy -t nat -F")
        try damageAndRepair(lab, "the PREROUTING and OUTPUT jumps removed",
                            "iptables-legacy -t nat -D PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES; iptables-legacy -t nat -D OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
        try damageAndRepair(lab, "KUBE-SVC chains flushed",
                            "for c in $(iptables-legacy-save -t nat | grep \"^:KUBE-SVC-\" | cut -d\" \" -f1 | tr -d :); do iptables-legacy -t nat -F $c; done")
        #expect(lab.proxyLog.contains("our rules were changed from outside"), "\(lab.proxyLog)")
        let converged = lab.verify("--proxy-mode iptables --iptables-backend legacy")
        #expect(converged.status == 0 && converged.output.contains("no drift"), "\(converged.output)")
        #expect(lab.stopProxy() == 0)
        // With nobody to repair it, verify names the damage and exits 1.
        _ = lab.inNamespace("node", "bash -c 'for c in $(iptables-legacy-save -t nat | grep \"^:KUBE-SVC-\" | head -1 | cut -d\" \" -f1 | tr -d :); do iptables-legacy -t nat -F $c; done; iptables-legacy -t nat -D POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING'")
        let drift = lab.verify("--proxy-mode iptables --iptables-backend legacy")
        #expect(drift.status == 1, "\(drift.output)")
        #expect(drift.output.contains("nat KUBE-SVC-") && drift.output.contains("nat POSTROUTING: missing") && drift.output.contains("drift: 2 differences"), "\(drift.output)")
    }

    @Test("nftables: a flushed table, an emptied service-ips map")
    func nftables() throws {
        let lab = try Lab(prefix: "ktb")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(flags: "--manifests '\(lab.manifestPath)' --proxy-mode nftables --iptables-sync-period 2s")
        try damageAndRepair(lab, "nft flush table", "nft flush table ip kube-proxy")
        try damageAndRepair(lab, "service-ips emptied", "nft flush map ip kube-proxy service-ips")
        #expect(lab.proxyLog.contains("our rules were changed from outside"), "\(lab.proxyLog)")
        let converged = lab.verify("--proxy-mode nftables")
        #expect(converged.status == 0 && converged.output.contains("no drift"), "\(converged.output)")
        #expect(lab.stopProxy() == 0)
        _ = lab.inNamespace("node", "nft flush map ip kube-proxy no-endpoint-services")
        let drift = lab.verify("--proxy-mode nftables")
        #expect(drift.status == 1 && drift.output.contains("map no-endpoint-services: differs") && drift.output.contains("drift: 1 difference in"), "\(drift.output)")
    }

    /// Counts `iptables-*-save` calls on the way to `base`; can flush nat from outside right after
    /// the next restore, before the proxier reads anything back.
    final class CountingRunner: CommandRunner {
        let base: any CommandRunner
        let saves = Mutex(0)
        let flushAfterNextRestore = Mutex(false)
        init(base: any CommandRunner) { self.base = base }
        func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
            if executable.hasSuffix("-save") { saves.withLock { $0 += 1 } }
            let result = try await base.run(executable, arguments, stdin: stdin)
            if executable.hasSuffix("-restore"), flushAfterNextRestore.withLock({ let flush = $0; $0 = false; return flush }) {
                _ = try await base.run("iptables-legacy", ["-t", "nat", "-F"], stdin: nil)
            }
            return result
        }
    }

    @Test("iptables-legacy: the kernel's entry counts spare reading the rules until they move; a change between syncs is still found")
    func entryCounts() async throws {
        let ns = try NFTablesStagesKernelTests.Namespace("skpt\(getpid())c")
        defer { ns.delete() }
        let name = ns.name
        let runner = CountingRunner(base: ns.runner)
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))
        let proxier = IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: .legacy, runner: runner), options: options,
                                      tableEntries: { table in (try? NetworkNamespace.run(in: name) { XTablesInfo.entries(table: table, family: .ipv4) }) ?? nil },
                                      logger: quiet)
        var state = SyntheticCluster.state(services: 10, endpoints: 2)
        #expect(await proxier.sync(state).succeeded)
        #expect(try NetworkNamespace.run(in: name) { XTablesInfo.entries(table: "nat", family: .ipv4) } ?? 0 > 60)
        #expect(await proxier.checkIntegrity(), "the first check after a sync reads the rules")
        let saves = runner.saves.withLock { $0 }
        #expect(await proxier.checkIntegrity())
        #expect(runner.saves.withLock { $0 } == saves, "untouched since that check: no iptables-save")
        // A chain flushed from outside, then a partial sync of another Service: still found.
        _ = Lab.shell("ip netns exec \(name) bash -c 'iptables-legacy -t nat -F $(iptables-legacy-save -t nat | grep \"^:KUBE-SVC-\" | head -1 | cut -d\" \" -f1 | tr -d :)'")
        state = SyntheticCluster.changingOneEndpoint(state, index: 7)
        #expect(await proxier.sync(state).succeeded)
        #expect(await proxier.checkIntegrity() == false)
        #expect(runner.saves.withLock { $0 } > saves, "the rules were read")
        #expect(await proxier.sync(state).full)
        #expect(await proxier.checkIntegrity())
        // A flush landing between our restore and anything read afterwards (the soak found it).
        runner.flushAfterNextRestore.withLock { $0 = true }
        state = SyntheticCluster.changingOneEndpoint(state, index: 3)
        #expect(await proxier.sync(state).succeeded)
        #expect(await proxier.checkIntegrity() == false, "the flush is found")
        #expect(await proxier.sync(state).full)
        #expect(await proxier.checkIntegrity())
    }
}
