import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

extension Verifier {
    /// IPVS mode's settings a fresh sync needs besides the inputs.
    public struct IPVSSettings: Sendable {
        public var scheduler: String
        public var excludeCIDRs: [CIDR]
        public init(scheduler: String = "rr", excludeCIDRs: [CIDR] = []) {
            self.scheduler = scheduler
            self.excludeCIDRs = excludeCIDRs
        }
    }

    /// IPVS mode: a fresh sync by the real proxier in the scratch namespace (its own IPVS table,
    /// ipsets, kube-ipvs0 and iptables), then each part compared with this namespace's: virtual
    /// and real servers (``IPVSDrift``), kube-proxy's ipsets, kube-ipvs0's addresses, and the
    /// iptables rules (``IPTablesDrift``).
    func compareIPVS(state: ProxyState, options: IPTablesCompilerOptions, backend: IPTablesBackend, settings: IPVSSettings,
                     there: NamespacedRunner, logger: Logger) async throws -> [String] {
        let family = state.family
        let scratchIPVS = try IPVSKernel(transport: try NetworkNamespace.run(in: there.namespace) { try NetlinkSocket() })
        let proxier = try ProxierFactory(mode: .ipvs, backend: backend, runner: there, ipvs: scratchIPVS, ipvsSettings: settings)
            .make(options: options, family: family, logger: logger)
        let outcome = await proxier.sync(state)
        guard outcome.succeeded else { throw Failure(description: "the fresh sync failed: \(outcome.error ?? "")") }
        // This namespace: the process's, or the one `runner` enters.
        let liveSocket = if let inside = runner as? NamespacedRunner { try NetworkNamespace.run(in: inside.namespace) { try NetlinkSocket() } } else { try NetlinkSocket() }
        let liveIPVS = try IPVSKernel(transport: liveSocket)
        let (live, expected) = try await BlockingIO.run { (try liveIPVS.virtualServers(family), try scratchIPVS.virtualServers(family)) }
        var found = IPVSDrift.virtualServers(live: live, expected: expected)
        let (liveSets, expectedSets) = (try await runner.run("ipset", ["save"]), try await there.run("ipset", ["save"]))
        found += IPVSDrift.ipsets(live: liveSets.stdout, expected: expectedSets.stdout, family: family)
        let liveAddresses = (try? await DummyInterface(runner: runner).addresses()) ?? []
        let expectedAddresses = try await DummyInterface(runner: there).addresses()
        found += IPVSDrift.addresses(live: liveAddresses.filter { $0.family == family }, expected: expectedAddresses.filter { $0.family == family })
        found += try await iptablesDifferences(family: family, backend: backend, there: there)
        return found
    }

    /// mangle, filter and nat of this namespace and the scratch one, kube-proxy's rules only.
    func iptablesDifferences(family: IPFamily, backend: IPTablesBackend, there: NamespacedRunner) async throws -> [String] {
        let (live, expected) = (IPTablesCommands(family: family, backend: backend, runner: runner), IPTablesCommands(family: family, backend: backend, runner: there))
        var liveSave = "", expectedSave = ""
        for table in ["mangle", "filter", "nat"] {
            liveSave += try await live.save(table: table)
            expectedSave += try await expected.save(table: table)
        }
        return try IPTablesDrift.differences(live: liveSave, expected: expectedSave)
    }
}
