import ArgumentParser
import KubeProxyKernel
import KubeProxyRuntime
import KubeProxyModel

/// `cleanup`: removes every chain and rule kube-proxy's iptables mode creates, and nothing else.
struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove what every mode creates (iptables chains and rules, nftables tables, IPVS virtual servers, kube-ipvs0, ipsets; IPv4 and IPv6), and exit.")

    @Option(name: .customLong("iptables-backend"), help: "legacy, nft, or all (both).")
    var backend: String = "all"

    func run() async throws {
        let runner = SubprocessCommandRunner()
        let backends: [IPTablesBackend] = backend == "all" ? IPTablesBackend.allCases : [IPTablesBackend(rawValue: backend)].compactMap { $0 }
        guard !backends.isEmpty else { throw ValidationError("--iptables-backend: must be legacy, nft or all") }
        let removals = await Leftovers(runner: runner) { try? IPVSKernel(transport: try NetlinkSocket()) }.removeAll(backends: backends)
        for removal in removals { print(removal.error == nil ? removal.description : "cleanup failed: \(removal)") }
        let failed = removals.contains { $0.error != nil }
        if failed { throw ExitCode(1) }
    }
}
