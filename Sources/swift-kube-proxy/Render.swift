import ArgumentParser
import IPVSRules
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import NFTablesRules

/// `render`: prints what a fresh proxier's first (full) sync writes, for the primary IP family:
/// the `iptables-restore` payload, the nftables table, or in IPVS mode the virtual servers,
/// kube-ipvs0's addresses, the `ipset restore` script and the iptables payload.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print what a first full sync writes (iptables payload, nftables table, or IPVS state) and exit.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var host: HostOptions

    @Flag(help: "Also dry-run the first sync against this namespace's kernel (iptables-restore --test, nft --check) without changing anything.")
    var check = false

    func run() async throws {
        let config = try proxy.configuration()
        let manifests = try proxy.loadManifests()
        let runner = SubprocessCommandRunner()
        let backend: IPTablesBackend = host.kernelFeatures == nil ? try await proxy.resolvedBackend(runner: runner) : .nft
        let inputs = ProxierInputs(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                   hostAddresses: try host.addresses(), features: try await host.features(backend: backend, runner: runner))
        let log = proxy.logger()
        for skipped in inputs.skipped { log.warning("skipping \(skipped)") }
        let ipvs = config.proxyMode == .ipvs ? inputs.firstSyncIPVS(scheduler: config.resolvedIPVSScheduler, localAddresses: try host.addresses()) : nil
        switch config.proxyMode {
        case .nftables: print(try inputs.firstSyncNFTablesState().dump(), terminator: "")
        case .iptables: print(inputs.firstSyncPayload(), terminator: "")
        case .ipvs: print(Self.ipvsText(ipvs!.desired, payload: ipvs!.payload, family: inputs.state.family), terminator: "")
        }
        guard check else { return }
        do {
            switch config.proxyMode {
            case .nftables:
                let plan = inputs.nftablesCompiler.compile(inputs.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
                try await NFTCommands(runner: runner).check(plan.transaction)
            case .iptables, .ipvs:
                let tool = backend.binary("iptables-restore", family: inputs.state.family)
                let r = try await runner.run(tool, ["--test", "--noflush"], stdin: ipvs?.payload ?? inputs.firstSyncPayload())
                guard r.succeeded else { throw ValidationError("\(tool) --test: \(r.stderr)") }
            }
            log.info("check passed: the kernel accepts this sync")
        } catch {
            log.error("check failed: \(error)")
            throw ExitCode(1)
        }
    }

    /// IPVS mode's first sync as text: virtual servers as `ipvsadm -Ln` lists them, kube-ipvs0's
    /// addresses, the `ipset restore` script and the iptables payload, each under a `#` heading.
    static func ipvsText(_ desired: IPVSPlanner.Desired, payload: String, family: IPFamily) -> String {
        var out = "# IPVS virtual servers\n"
        for server in desired.virtualServers.values.sorted(by: { $0.key < $1.key }) {
            let persistence = server.timeout > 0 ? " persistent \(server.timeout)" : ""
            out += "\(server.key) \(server.scheduler)\(persistence)\n"
            for real in server.realServers.sorted() { out += "  -> \(real.endpoint) Masq \(real.weight)\n" }
        }
        out += "# kube-ipvs0 addresses\n" + desired.boundAddresses.map(\.description).sorted().map { $0 + "\n" }.joined()
        out += "# ipset restore\n" + IPSetRestore.script(desired: desired.setEntries, previous: nil, family: family)
        if !out.hasSuffix("\n") { out += "\n" }
        return out + "# iptables-restore\n" + payload
    }
}
