import ArgumentParser
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime

/// `render`: prints the payload of a fresh proxier's first (full) sync, for the primary IP family.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the iptables-restore payload of a first full sync and exit.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var host: HostOptions

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
    }
}
