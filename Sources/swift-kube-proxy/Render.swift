import ArgumentParser
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import NFTablesRules

/// `render`: prints the payload of a fresh proxier's first (full) sync, for the primary IP family.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the iptables-restore payload of a first full sync and exit.")

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
        if config.resolvedMode == "nftables" {
            print(try inputs.firstSyncNFTablesState().dump(), terminator: "")
        } else {
            print(inputs.firstSyncPayload(), terminator: "")
        }
        guard check else { return }
        do {
            if config.resolvedMode == "nftables" {
                let plan = inputs.nftablesCompiler.compile(inputs.state, scope: .full, previous: nil, existingChains: [], existingSets: [])
                try await NFTCommands(runner: runner).check(plan.transaction)
            } else {
                let tool = backend.binary("iptables-restore", family: inputs.state.family)
                let r = try await runner.run(tool, ["--test", "--noflush"], stdin: inputs.firstSyncPayload())
                guard r.succeeded else { throw ValidationError("\(tool) --test: \(r.stderr)") }
            }
            log.info("check passed: the kernel accepts this sync")
        } catch {
            log.error("check failed: \(error)")
            throw ExitCode(1)
        }
    }
}
