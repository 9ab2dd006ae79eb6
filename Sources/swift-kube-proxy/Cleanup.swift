import ArgumentParser
import IPTablesRules
import IPVSRules
import KubeProxyKernel
import KubeProxyModel
import NFTablesRules

/// `cleanup`: removes every chain and rule kube-proxy's iptables mode creates, and nothing else.
struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove what every mode creates (iptables chains and rules, nftables tables, IPVS virtual servers, kube-ipvs0, ipsets; IPv4 and IPv6), and exit.")

    @Option(name: .customLong("iptables-backend"), help: "legacy, nft, or all (both).")
    var backend: String = "all"

    func run() async throws {
        let runner = SubprocessCommandRunner()
        let backends: [IPTablesBackend] = backend == "all" ? IPTablesBackend.allCases : [IPTablesBackend(rawValue: backend)].compactMap { $0 }
        guard !backends.isEmpty else { throw ValidationError("--iptables-backend: must be legacy, nft or all") }
        var failed = false
        // IPVS first (upstream's order): virtual servers, then the dummy interface.
        if let ipvs = try? IPVSKernel(transport: try NetlinkSocket()) {
            let count = ((try? ipvs.virtualServers(.ipv4))?.count ?? 0) + ((try? ipvs.virtualServers(.ipv6))?.count ?? 0)
            if count > 0 {
                do { try ipvs.flush(); print("removed \(count) IPVS virtual servers") } catch { failed = true; print("cleanup failed (IPVS): \(error)") }
            }
        }
        do {
            if try await DummyInterface(runner: runner).delete() { print("removed \(DummyInterface.defaultName)") }
        } catch { failed = true; print("cleanup failed: \(error)") }
        for b in backends {
            for family in IPFamily.allCases {
                let iptables = IPTablesCommands(family: family, backend: b, runner: runner)
                var save = ""
                for table in ["mangle", "filter", "nat"] {
                    if let text = try? await iptables.save(table: table) { save += text }
                }
                guard let payload = try IPTablesCleanup.payload(save: save) else { continue }
                do {
                    try await iptables.restore(payload)
                    print("removed kube-proxy rules (\(b.rawValue), \(family.rawValue))")
                } catch {
                    failed = true
                    print("cleanup failed (\(b.rawValue), \(family.rawValue)): \(error)")
                }
            }
        }
        let nft = NFTCommands(runner: runner)
        for family in ["ip", "ip6"] where await nft.tableExists(family: family, table: NFTablesCompiler.table) {
            var tx = NFTTransaction(family: family, table: NFTablesCompiler.table)
            tx.delete(.table(comment: nil))
            do {
                try await nft.run(tx)
                print("removed nftables table \(family) \(NFTablesCompiler.table)")
            } catch {
                failed = true
                print("cleanup failed (nftables \(family)): \(error)")
            }
        }
        // ipsets last: iptables rules referenced them.
        if (try? await runner.run("ipset", ["--version"]))?.succeeded == true {
            let names = IPFamily.allCases.flatMap { family in IPVSIPSet.all.map { $0.name(for: family) } }
            do {
                let destroyed = try await IPSetCommands(runner: runner).destroy(names)
                if !destroyed.isEmpty { print("removed \(destroyed.count) ipsets") }
            } catch { failed = true; print("cleanup failed: \(error)") }
        }
        if failed { throw ExitCode(1) }
    }
}
