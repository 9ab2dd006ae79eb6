import IPTablesRules
import IPVSRules
import KubeProxyKernel
import KubeProxyModel
import NFTablesRules
import PacketTracer

/// The kube-proxy rules this network namespace's kernel holds for one IP family, read for
/// `trace --live`: the `kube-proxy` nft table, or the iptables tables of the backend that holds
/// kube-proxy's chains (in IPVS mode with the ipsets and the virtual servers).
enum LiveRules {
    case nftables(NFTablesState)
    case iptables(IPTablesDump, backend: IPTablesBackend)
    case ipvs(IPTablesDump, backend: IPTablesBackend, IPVSState)

    /// IPVS mode's state besides iptables: kube-proxy's ipsets and the kernel's virtual servers.
    struct IPVSState {
        var ipsets: [String: IPSetContents]
        var virtualServers: [VirtualServer.Key: VirtualServer]
    }

    var mode: ProxyMode {
        switch self {
        case .nftables: .nftables
        case .iptables: .iptables
        case .ipvs: .ipvs
        }
    }

    var backend: IPTablesBackend {
        switch self {
        case .nftables: .nft
        case .iptables(_, let backend), .ipvs(_, let backend, _): backend
        }
    }

    /// The commands the rules were read with.
    func source(_ family: IPFamily) -> String {
        switch self {
        case .nftables(let table): "nft list table \(table.family) \(table.table)"
        case .iptables(_, let backend): backend.binary("iptables-save", family: family)
        case .ipvs(_, let backend, _): "\(backend.binary("iptables-save", family: family)), ipset save, IPVS over netlink"
        }
    }

    func trace(_ packet: Packet, localAddresses: Set<IPAddress>) -> TraceResult {
        switch self {
        case .nftables(let table): NFTablesTracer(table: table, localAddresses: localAddresses).trace(packet)
        case .iptables(let dump, _): IPTablesTracer(dump: dump, localAddresses: localAddresses).trace(packet)
        case .ipvs(let dump, _, let state):
            IPVSTracer(dump: dump, ipsets: state.ipsets, virtualServers: state.virtualServers, localAddresses: localAddresses).trace(packet)
        }
    }

    /// What the kernel holds for `family`: the nft table, and the iptables rules of the backend
    /// with the most kube-proxy lines among those with a nat `KUBE-SERVICES` chain (`backends`).
    struct Found {
        var nftables: NFTablesState?
        var iptables: (dump: IPTablesDump, backend: IPTablesBackend)?
        /// Whether the iptables rules are IPVS mode's (`--match-set KUBE-CLUSTER-IP`).
        var ipvsRules = false
        /// IPVS mode's ipsets and virtual servers, when read; else why they could not be.
        var ipvs: Result<IPVSState, any Error>?

        /// The rules of `mode`, or with `mode` nil the ones present (nftables first), with why they were chosen.
        func rules(for mode: ProxyMode?) -> (rules: LiveRules, why: String)? {
            switch mode {
            case .nftables?: return nftables.map { (.nftables($0), "from the configuration") }
            case .iptables?: return iptables.map { (.iptables($0.dump, backend: $0.backend), "from the configuration") }
            case .ipvs?: return ipvsTracing(why: "from the configuration")
            case nil:
                let others = iptables.map { " (kube-proxy's iptables chains are present too, \($0.backend.rawValue) backend)" } ?? ""
                if let nftables { return (.nftables(nftables), "detected: the kube-proxy nft table exists" + others) }
                if ipvsRules { return ipvsTracing(why: "detected: the nat rules match kube-proxy's IPVS ipsets") }
                return iptables.map { (.iptables($0.dump, backend: $0.backend), "detected: KUBE-SERVICES is in the nat table") }
            }
        }

        /// IPVS mode's rules with its ipsets and virtual servers, when they were read.
        func ipvsTracing(why: String) -> (rules: LiveRules, why: String)? {
            guard let iptables, case .success(let state)? = ipvs else { return nil }
            return (.ipvs(iptables.dump, backend: iptables.backend, state), why)
        }
    }

    /// Reads what the kernel holds for `family` (IPVS state when the rules are IPVS mode's, or `ipvs`).
    static func read(family: IPFamily, backends: [IPTablesBackend], ipvs: Bool, runner: any CommandRunner) async -> Found {
        var found = Found()
        let nftFamily = family == .ipv4 ? "ip" : "ip6"
        if let listed = try? await runner.run("nft", ["-y", "list", "table", nftFamily, NFTablesCompiler.table]), listed.succeeded {
            found.nftables = try? NFTablesState(listing: listed.stdout)
        }
        var best = 0
        for backend in backends {
            let commands = IPTablesCommands(family: family, backend: backend, runner: runner)
            var text = ""
            for table in ["filter", "nat"] { text += (try? await commands.save(table: table)) ?? "" }
            guard let dump = try? IPTablesDump(parsing: text), dump.table("nat")?.chain("KUBE-SERVICES") != nil else { continue }
            let score = text.split(separator: "\n").filter { $0.contains("KUBE-") }.count
            if score > best {
                best = score
                found.iptables = (dump, backend)
                found.ipvsRules = text.contains("--match-set \(IPVSIPSet.clusterIP.name(for: family)) ")
            }
        }
        if found.ipvsRules || ipvs { found.ipvs = await readIPVS(family: family, runner: runner) }
        return found
    }

    /// kube-proxy's ipsets (`ipset save`) and the kernel's virtual servers of `family`.
    static func readIPVS(family: IPFamily, runner: any CommandRunner) async -> Result<IPVSState, any Error> {
        do {
            let saved = try await runner.run("ipset", ["save"])
            let kernel = try IPVSKernel(transport: try NetlinkSocket())
            let servers = try await BlockingIO.run { try kernel.virtualServers(family) }
            return .success(IPVSState(ipsets: IPSetContents.sets(inSave: saved.stdout),
                                      virtualServers: Dictionary(servers.map { ($0.key, $0) }) { first, _ in first }))
        } catch {
            return .failure(error)
        }
    }
}
