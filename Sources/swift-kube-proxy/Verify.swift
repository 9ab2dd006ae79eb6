import ArgumentParser
import KubeProxyAPI
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging

/// `verify`: compares this namespace's kernel with what a fresh sync of the current objects
/// would write; prints each difference and exits 1 on drift.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare the kernel's rules with a fresh sync of the objects; exit 1 on drift.")

    @OptionGroup var proxy: ProxyOptions

    func run() async throws {
        let config = try proxy.configuration()
        let runner = SubprocessCommandRunner()
        let log = proxy.logger()
        let manifests = proxy.manifests.isEmpty ? try await snapshot(config, logger: log) : try proxy.loadManifests()
        let mode = config.proxyMode
        let backend = try await proxy.resolvedBackend(runner: runner)
        // Every family the node proxies, as `run` does.
        let families = ProxierInputs.all(config: config, manifests: manifests, hostname: HostFacts.hostname(), hostAddresses: HostFacts.interfaceAddresses(),
                                         features: await HostFacts.kernelFeatures(backend: backend, runner: runner))
        let inputs = families[0]
        for skipped in inputs.skipped { log.warning("skipping \(skipped)") }
        var differences: [String] = []
        do {
            let ipvs = Verifier.IPVSSettings(scheduler: config.resolvedIPVSScheduler, excludeCIDRs: (config.ipvs?.excludeCIDRs ?? []).compactMap { CIDR(sloppy: $0) })
            for familyInputs in families {
                let found = try await Verifier(runner: runner, logger: log).differences(mode: mode, inputs: familyInputs, backend: backend, ipvs: ipvs)
                differences += families.count == 1 ? found : found.map { "\(familyInputs.state.family.rawValue): \($0)" }
            }
        } catch {
            print("verify: \(error)")
            throw ExitCode(2)
        }
        let what = switch mode {
        case .nftables: "nftables table"
        case .ipvs: "IPVS table, ipsets, kube-ipvs0 and iptables rules (\(backend.rawValue))"
        case .iptables: "iptables rules (\(backend.rawValue))"
        }
        guard !differences.isEmpty else {
            print("no drift: the \(what) of this namespace match a fresh sync of \(families.map { "\($0.state.services.count)" }.joined(separator: " + ")) Service ports")
            return
        }
        for difference in differences { print(difference) }
        print("drift: \(differences.count) difference\(differences.count == 1 ? "" : "s") in the \(what)")
        throw ExitCode(1)
    }

    /// The API server's objects once (a list of each), for `verify` without `--manifests`.
    func snapshot(_ config: KubeProxyConfiguration, logger: Logger) async throws -> Manifests {
        let client = try APIClient(config: try Run.apiServerConfig(config, master: proxy.master))
        let nodeName = NodeFacts(config: config, nodes: [], hostname: HostFacts.hostname()).name
        let source = APISource(client: client, nodeName: nodeName, logger: logger)
        return try await withThrowingTaskGroup(of: Manifests?.self) { group in
            group.addTask { await source.run(); return nil }
            group.addTask {
                try await source.waitUntilSynced()
                return try source.load()
            }
            defer { group.cancelAll() }
            while let next = try await group.next() { if let manifests = next { return manifests } }
            throw ValidationError("the API server's objects could not be listed")
        }
    }
}
