import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging
import Synchronization
import Testing

/// Faults in iptables-restore: a hanging one is killed at the runner's timeout and the next sync
/// is full; what a refused restore leaves behind, per table, is what the README says.
@Suite("Kernel: a hanging or refused iptables-restore", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct RestoreFaultKernelTests {
    typealias Namespace = NFTablesStagesKernelTests.Namespace
    static let options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "198.18.1.0/24")!), nodePortAddresses: NodePortAddresses([], family: .ipv4))

    /// Runs everything through `base`, except that while `hanging` is set an `iptables-*-restore`
    /// is replaced by `sleep 30` under a half-second timeout.
    final class HangingRestore: CommandRunner {
        let base: any CommandRunner
        let hanging = Mutex(false)
        init(base: any CommandRunner) { self.base = base }
        func run(_ executable: String, _ arguments: [String], stdin: String?) async throws -> CommandResult {
            if hanging.withLock({ $0 }) && executable.hasSuffix("-restore") {
                return try await SubprocessCommandRunner(timeout: .milliseconds(500)).run("sleep", ["30"], stdin: stdin)
            }
            return try await base.run(executable, arguments, stdin: stdin)
        }
    }

    @Test("a hanging restore is killed at the timeout and counted, its error names the command, the rules stay as they were; the next sync is full and converges")
    func hanging() async throws {
        let ns = try Namespace("skpf\(getpid())h")
        defer { ns.delete() }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let runner = HangingRestore(base: ns.runner)
        let proxier = IPTablesProxier(iptables: IPTablesCommands(family: .ipv4, backend: .legacy, runner: runner), options: Self.options, logger: quiet)
        let verifier = Verifier(runner: ns.runner, logger: quiet)
        let a = SyntheticCluster.state(services: 20, endpoints: 3)
        let b = SyntheticCluster.changingOneEndpoint(a, index: 5)
        #expect(await proxier.sync(a).succeeded)
        runner.hanging.withLock { $0 = true }
        let clock = ContinuousClock(), start = clock.now
        let failed = await proxier.sync(b)
        #expect(clock.now - start < .seconds(5), "killed at the timeout, not waited for")
        #expect(!failed.succeeded && (failed.error ?? "").contains("timed out"), "\(failed.error ?? "")")
        #expect(await proxier.dataplane.metrics.restoreFailures == 1)
        #expect(await proxier.needFullSync)
        #expect(try await verifier.differences(mode: .iptables, state: a, options: Self.options, backend: .legacy).isEmpty, "the kernel still holds state A")
        runner.hanging.withLock { $0 = false }
        let next = await proxier.sync(b)
        #expect(next.succeeded && next.full)
        #expect(try await verifier.differences(mode: .iptables, state: b, options: Self.options, backend: .legacy).isEmpty)
    }

    /// `iptables-save` of one table in the namespace, without counters and comments lines.
    static func save(_ ns: Namespace, _ backend: IPTablesBackend, _ table: String) -> String {
        Lab.shell("ip netns exec \(ns.name) \(backend.binary("iptables-save", family: .ipv4)) -t \(table)").output
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }

    @Test("a refused restore: each table's COMMIT is atomic, the tables together are not (filter, committed first, stays changed; nat is untouched)",
          arguments: [IPTablesBackend.legacy, .nft])
    func perTableAtomicity(backend: IPTablesBackend) async throws {
        let ns = try Namespace("skpf\(getpid())\(backend.rawValue.prefix(1))")
        defer { ns.delete() }
        let iptables = IPTablesCommands(family: .ipv4, backend: backend, runner: ns.runner)
        let proxier = IPTablesProxier(iptables: iptables, options: Self.options)
        #expect(await proxier.sync(SyntheticCluster.state(services: 5, endpoints: 2)).succeeded)
        let (filterBefore, natBefore) = (Self.save(ns, backend, "filter"), Self.save(ns, backend, "nat"))
        // filter is fine; nat's second rule jumps to a chain that does not exist.
        let payload = "*filter\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment marker -j ACCEPT\nCOMMIT\n"
            + "*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j RETURN\n-A KUBE-SERVICES -j KUBE-NO-SUCH-CHAIN\nCOMMIT\n"
        await #expect(throws: IPTablesRestoreError.self) { try await iptables.restore(payload) }
        #expect(Self.save(ns, backend, "nat") == natBefore, "nat, whose COMMIT failed, is exactly as before")
        let filterAfter = Self.save(ns, backend, "filter")
        #expect(filterAfter != filterBefore && filterAfter.contains("marker"), "filter, committed before nat failed, changed")
    }
}
