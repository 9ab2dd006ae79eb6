import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging
import NFTablesRules

/// What each proxy mode leaves in a network namespace, found and removed: `cleanup` removes all
/// of it, and `run` removes the other modes' at start (upstream's platformCleanup, and more: a
/// switch between iptables and IPVS mode, or between iptables backends, is cleaned too).
///
/// A mode's state is removed only where its marker is found, so a restart in the same mode never
/// touches the rules that carry traffic: iptables mode's marker is a per-Service chain
/// (`KUBE-SVC-…`, `KUBE-SEP-…`, `KUBE-DST-…`) in a backend's nat table; IPVS mode's is
/// `kube-ipvs0`, a virtual server or one of its ipsets; nftables mode's is a `kube-proxy` table.
public struct Leftovers: Sendable {
    let runner: any CommandRunner
    /// IPVS over netlink, made only when IPVS state is to be removed (opening it loads `ip_vs`).
    let ipvs: @Sendable () -> IPVSKernel?
    /// Whether `/proc/net/ip_tables_names` of this process tells which legacy tables exist: true
    /// when `runner` runs in this process's namespace (the daemon, `cleanup`).
    let checksLegacyTables: Bool

    public init(runner: any CommandRunner, checksLegacyTables: Bool = true, ipvs: @escaping @Sendable () -> IPVSKernel?) {
        self.runner = runner
        self.checksLegacyTables = checksLegacyTables
        self.ipvs = ipvs
    }

    /// One removal: what was removed, or what failed.
    public struct Removal: Sendable, CustomStringConvertible {
        public var what: String
        public var error: String?
        public var description: String { error.map { "cannot remove \(what): \($0)" } ?? "removed \(what)" }
    }

    /// Removes every mode's state (`cleanup`): IPVS, then iptables rules of `backends`, nftables
    /// tables, and the ipsets last (rules referenced them).
    public func removeAll(backends: [IPTablesBackend]) async -> [Removal] {
        var done = await removeIPVSServers()
        for backend in backends { done += await removeIPTables(backend: backend) }
        done += await removeNFTables()
        done += await removeIPSets()
        return done
    }

    /// Removes what modes other than `mode` (on `backend`) left, before its first sync.
    public func removeOthers(mode: ProxyMode, backend: IPTablesBackend) async -> [Removal] {
        var done: [Removal] = []
        if mode != .nftables { done += await removeNFTables() }
        let ipvsLeft = mode != .ipvs ? await hasIPVSState() : false
        if ipvsLeft { done += await removeIPVSServers() }
        for candidate in IPTablesBackend.allCases {
            let remove: Bool
            switch mode {
            case .nftables: remove = true                                 // no iptables rule is nftables mode's
            case .iptables: remove = candidate != backend || ipvsLeft     // the other backend; IPVS mode's chains
            case .ipvs:
                let iptablesModeLeft = await hasIPTablesModeChains(backend: candidate)
                remove = candidate != backend || iptablesModeLeft
            }
            if remove, await hasAnyKubeChain(backend: candidate) { done += await removeIPTables(backend: candidate) }
        }
        if ipvsLeft { done += await removeIPSets() }
        return done
    }

    // MARK: removals

    /// IPVS virtual servers (both families) and kube-ipvs0.
    func removeIPVSServers() async -> [Removal] {
        var done: [Removal] = []
        if let ipvs = ipvs() {
            let count = (try? await BlockingIO.run { IPFamily.allCases.reduce(0) { $0 + ((try? ipvs.virtualServers($1))?.count ?? 0) } }) ?? 0
            if count > 0 {
                do { try await BlockingIO.run { try ipvs.flush() }; done.append(Removal(what: "\(count) IPVS virtual servers")) } catch {
                    done.append(Removal(what: "IPVS virtual servers", error: "\(error)"))
                }
            }
        }
        do {
            if try await DummyInterface(runner: runner).delete() { done.append(Removal(what: DummyInterface.defaultName)) }
        } catch { done.append(Removal(what: DummyInterface.defaultName, error: "\(error)")) }
        return done
    }

    /// Every chain kube-proxy owns in one backend, both families, and the rules that jump to them.
    func removeIPTables(backend: IPTablesBackend) async -> [Removal] {
        var done: [Removal] = []
        for family in IPFamily.allCases {
            let iptables = IPTablesCommands(family: family, backend: backend, runner: runner)
            var save = ""
            for table in ["mangle", "filter", "nat"] { save += await self.save(backend, family, table: table) }
            let what = "kube-proxy rules (\(backend.rawValue), \(family.rawValue))"
            do {
                guard let payload = try IPTablesCleanup.payload(save: save) else { continue }
                try await iptables.restore(payload)
                done.append(Removal(what: what))
            } catch { done.append(Removal(what: what, error: "\(error)")) }
        }
        return done
    }

    /// nftables mode's `kube-proxy` tables (ip and ip6).
    func removeNFTables() async -> [Removal] {
        let nft = NFTCommands(runner: runner)
        var done: [Removal] = []
        for family in ["ip", "ip6"] where await nft.tableExists(family: family, table: NFTablesCompiler.table) {
            var tx = NFTTransaction(family: family, table: NFTablesCompiler.table)
            tx.delete(.table(comment: nil))
            let what = "nftables table \(family) \(NFTablesCompiler.table)"
            do { try await nft.run(tx); done.append(Removal(what: what)) } catch { done.append(Removal(what: what, error: "\(error)")) }
        }
        return done
    }

    /// IPVS mode's ipsets (both families); after the rules that referenced them.
    func removeIPSets() async -> [Removal] {
        guard (try? await runner.run("ipset", ["--version"]))?.succeeded == true else { return [] }
        let names = IPFamily.allCases.flatMap { family in IPVSIPSet.all.map { $0.name(for: family) } }
        do {
            let destroyed = try await IPSetCommands(runner: runner).destroy(names)
            return destroyed.isEmpty ? [] : [Removal(what: "\(destroyed.count) ipsets")]
        } catch { return [Removal(what: "ipsets", error: "\(error)")] }
    }

    // MARK: markers

    func save(_ backend: IPTablesBackend, _ family: IPFamily, table: String) async -> String {
        // Asking iptables-legacy about a table it does not have would make the kernel create it.
        if backend == .legacy && checksLegacyTables && !XTablesInfo.exists(table: table, family: family) { return "" }
        return (try? await IPTablesCommands(family: family, backend: backend, runner: runner).save(table: table)) ?? ""
    }

    /// Whether a backend's nat table holds a per-Service chain of iptables mode.
    func hasIPTablesModeChains(backend: IPTablesBackend) async -> Bool {
        for family in IPFamily.allCases {
            let text = await save(backend, family, table: "nat")
            let chains = text.split(separator: "\n").filter { $0.hasPrefix(":") }.map { String($0.dropFirst().prefix { $0 != " " }) }
            if chains.contains(where: IPTablesCleanup.isIPTablesModeChain) { return true }
        }
        return false
    }

    /// Whether a backend holds any chain kube-proxy owns (either mode).
    func hasAnyKubeChain(backend: IPTablesBackend) async -> Bool {
        for family in IPFamily.allCases {
            for table in ["nat", "filter", "mangle"] {
                let text = await save(backend, family, table: table)
                if text.split(separator: "\n").contains(where: { $0.hasPrefix(":") && IPTablesCleanup.owns(String($0.dropFirst().prefix { $0 != " " })) }) {
                    return true
                }
            }
        }
        return false
    }

    /// Whether IPVS mode left anything: kube-ipvs0, or one of its ipsets. Virtual servers alone
    /// are no sign (kube-vip, keepalived and others make them too).
    func hasIPVSState() async -> Bool {
        if await DummyInterface(runner: runner).exists() { return true }
        guard let list = try? await runner.run("ipset", ["list", "-n"]), list.succeeded else { return false }
        let ours = Set(IPFamily.allCases.flatMap { family in IPVSIPSet.all.map { $0.name(for: family) } })
        return list.stdout.split(separator: "\n").contains { ours.contains(String($0)) }
    }
}
