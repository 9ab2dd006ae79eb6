import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// The one place a mode becomes a proxier: `run` (one per family), `verify`'s scratch sync and
/// `skp-lab partial-sync` all make theirs here, so every mode is built the same way everywhere.
public struct ProxierFactory: Sendable {
    public var mode: ProxyMode
    /// iptables mode's backend, and IPVS mode's for its iptables rules.
    public var backend: IPTablesBackend
    /// Runs iptables, ipset, ip and nft in the namespace to program.
    public var runner: any CommandRunner
    /// nftables mode's writer (netlink or nft); nft commands through `runner` when nil.
    public var nftables: (any NFTablesInterface)?
    /// IPVS mode's kernel (a generic netlink socket in the namespace to program).
    public var ipvs: IPVSKernel?
    public var ipvsSettings: Verifier.IPVSSettings
    public var conntrack: (any ConntrackCleaner)?
    /// iptables mode: how often a large cluster's stale chains are looked for.
    public var cleanupInterval: Duration
    /// iptables mode: a cheap entry count per table, per family (iptables-legacy in this process's namespace).
    public var tableEntries: (@Sendable (IPFamily) -> (@Sendable (String) -> Int?)?)?

    public init(mode: ProxyMode, backend: IPTablesBackend, runner: any CommandRunner, nftables: (any NFTablesInterface)? = nil,
                ipvs: IPVSKernel? = nil, ipvsSettings: Verifier.IPVSSettings = .init(), conntrack: (any ConntrackCleaner)? = nil,
                cleanupInterval: Duration = .seconds(30), tableEntries: (@Sendable (IPFamily) -> (@Sendable (String) -> Int?)?)? = nil) {
        self.mode = mode
        self.backend = backend
        self.runner = runner
        self.nftables = nftables
        self.ipvs = ipvs
        self.ipvsSettings = ipvsSettings
        self.conntrack = conntrack
        self.cleanupInterval = cleanupInterval
        self.tableEntries = tableEntries
    }

    /// A proxier of ``mode`` for `family` with `options`.
    /// - Throws: ``Failure`` in IPVS mode without an IPVS kernel.
    public func make(options: IPTablesCompilerOptions, family: IPFamily, logger: Logger) throws -> any Proxier {
        switch mode {
        case .iptables:
            return IPTablesProxier(iptables: IPTablesCommands(family: family, backend: backend, runner: runner), options: options, conntrack: conntrack,
                                   cleanupInterval: cleanupInterval, tableEntries: tableEntries?(family), logger: logger)
        case .nftables:
            return NFTablesProxier(nft: nftables ?? NFTCommands(runner: runner), options: options, family: family, conntrack: conntrack, logger: logger)
        case .ipvs:
            guard let ipvs else { throw Failure(description: "IPVS mode needs the kernel's IPVS (no generic netlink socket for it)") }
            return IPVSProxier(ipvs: ipvs, iptables: IPTablesCommands(family: family, backend: backend, runner: runner), ipset: IPSetCommands(runner: runner),
                               dummy: DummyInterface(runner: runner), options: options, scheduler: ipvsSettings.scheduler,
                               excludeCIDRs: ipvsSettings.excludeCIDRs, conntrack: conntrack, logger: logger)
        }
    }

    /// Why a proxier could not be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
