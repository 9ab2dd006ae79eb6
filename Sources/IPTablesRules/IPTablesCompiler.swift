import Foundation
import KubeProxyCore
import KubeProxyModel

/// Compiles a ``ProxyState`` into kube-proxy's iptables-restore payload, chain for chain and rule
/// for rule as upstream's `syncProxyRules` writes it.
///
/// ```swift
/// let compiler = IPTablesCompiler(options: options)
/// let plan = compiler.compile(state, scope: .full, existingNATChains: [])
/// print(plan.payload)
/// ```
public struct IPTablesCompiler: Sendable {
    /// Which services' own chains (SVC/SVL/EXT/FW/SEP) a sync writes (every mode's ``SyncScope``).
    public typealias Scope = SyncScope

    public let options: IPTablesCompilerOptions

    public init(options: IPTablesCompilerOptions) {
        self.options = options
    }

    public static let servicesChain = "KUBE-SERVICES"
    public static let externalServicesChain = "KUBE-EXTERNAL-SERVICES"
    public static let nodePortsChain = "KUBE-NODEPORTS"
    public static let postroutingChain = "KUBE-POSTROUTING"
    public static let markMasqChain = "KUBE-MARK-MASQ"
    public static let forwardChain = "KUBE-FORWARD"
    public static let proxyFirewallChain = "KUBE-PROXY-FIREWALL"
    public static let kubeletFirewallChain = "KUBE-FIREWALL"
    public static let canaryChain = "KUBE-PROXY-CANARY"

    /// Compiles `state`.
    /// - Parameters:
    ///   - scope: full, or partial with the Services that changed.
    ///   - existingNATChains: the nat chains now in the kernel (from `iptables-save -t nat`); those
    ///     with a service prefix that the state no longer uses are flushed and deleted. Pass nil to
    ///     skip that cleanup.
    ///   - previous: the last applied plan of the same proxier; a partial compile counts the chains
    ///     of unchanged Services from it instead of generating them again.
    public func compile(_ state: ProxyState, scope: Scope, existingNATChains: Set<String>?, previous: IPTablesSyncPlan? = nil) -> IPTablesSyncPlan {
        var out = Buffers()
        let isFullScope = scope == .full
        let isIPv6 = state.family == .ipv6
        let mark = options.masqueradeMark
        let largeClusterMode = state.totalEndpointCount > options.largeClusterEndpointsThreshold

        for chain in [Self.servicesChain, Self.externalServicesChain, Self.forwardChain, Self.nodePortsChain, Self.proxyFirewallChain] {
            out.filterChains.writeLine(chainLine(chain))
        }
        for chain in [Self.servicesChain, Self.nodePortsChain, Self.postroutingChain, Self.markMasqChain] {
            out.natChains.writeLine(chainLine(chain))
        }
        out.natRules.write("-A", Self.postroutingChain, "-m", "mark", "!", "--mark", "\(mark)/\(mark)", "-j", "RETURN")
        out.natRules.write("-A", Self.postroutingChain, "-j", "MARK", "--xor-mark", mark)
        var masquerade = ["-A", Self.postroutingChain, "-m", "comment", "--comment", "\"kubernetes service traffic requiring SNAT\"", "-j", "MASQUERADE"]
        if options.features.randomFully { masquerade.append("--random-fully") }
        out.natRules.write(masquerade)
        out.natRules.write("-A", Self.markMasqChain, "-j", "MARK", "--or-mark", mark)

        if !isIPv6 && options.localhostNodePorts {
            // Mitigates the route_localnet hole (kubernetes#90259); kubelet writes the same rule.
            out.filterChains.writeLine(chainLine(Self.kubeletFirewallChain))
            out.filterRules.write("-A", Self.kubeletFirewallChain, "-m", "comment", "--comment", "\"block incoming localnet connections\"",
                                  "-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP")
        }

        var context = ServicePortContext(options: options, isIPv6: isIPv6, largeClusterMode: largeClusterMode,
                                         reusable: scope == .full ? nil : previous?.serviceSummaries)
        for name in state.sortedServicePortNames {
            guard let service = state.services[name] else { continue }
            let writeChains: Bool
            switch scope {
            case .full: writeChains = true
            case .partial(let changed): writeChains = changed.contains(name.namespacedName)
            }
            let selection = EndpointSelection(service: service, state: state)
            context.write(service, selection: selection, into: &out, writeChains: writeChains)
        }

        var dispatchChains: [String: [String]] = [:]
        if case .tree(let bits, let leaf) = options.dispatch {
            let tree = DispatchTree(entries: out.dispatchEntries, fanOutBits: bits, leafSize: leaf, family: state.family)
            tree.rootRules.forEach { out.natRules.writeLine($0) }
            for (name, rules) in tree.chains {
                dispatchChains[name] = rules
                context.addActive(name)
                // A partial sync rewrites only the tree chains whose rules changed.
                if isFullScope || previous?.dispatchChains[name] != rules {
                    out.natChains.writeLine(chainLine(name))
                    rules.forEach { out.natRules.writeLine($0) }
                } else {
                    context.countSkipped(rules.count)
                }
            }
        }

        var deleted: [String] = []
        if let existing = existingNATChains {
            let stale = existing.filter {
                !context.activeNATChains.contains($0) && (ChainNames.isServiceChain($0) || $0.hasPrefix(DispatchTree.prefix))
            }
            for chain in stale.sorted() {
                out.natChains.writeLine(chainLine(chain))
                out.natRules.write("-X", chain)
                deleted.append(chain)
            }
        }

        writeNodePortsJump(into: &out, isIPv6: isIPv6)
        writeForwardRules(into: &out)

        var payload = "*filter\n"
        payload.reserveCapacity((out.natRules.count + out.filterRules.count) * 120)
        for line in out.filterChains.lines + out.filterRules.lines { payload += line; payload += "\n" }
        payload += "COMMIT\n*nat\n"
        for line in out.natChains.lines + out.natRules.lines { payload += line; payload += "\n" }
        payload += "COMMIT\n"

        return IPTablesSyncPlan(
            payload: payload, isFull: isFullScope, activeNATChains: context.activeNATChains, deletedChains: deleted,
            filterRuleCount: out.filterRules.count,
            natRulesWritten: out.natRules.count - deleted.count,
            natRuleTotal: out.natRules.count + context.skippedRuleCount - deleted.count,
            largeClusterMode: largeClusterMode,
            noLocalEndpointsInternal: context.noLocalEndpointsInternal,
            noLocalEndpointsExternal: context.noLocalEndpointsExternal,
            serviceSummaries: context.summaries,
            dispatchChains: dispatchChains)
    }

    /// The last rule(s) of nat KUBE-SERVICES: local destinations go on to KUBE-NODEPORTS.
    private func writeNodePortsJump(into out: inout Buffers, isIPv6: Bool) {
        let comment = "\"kubernetes service nodeports; NOTE: this must be the last rule in this chain\""
        if options.nodePortAddresses.matchAll {
            var destinations = ["-m", "addrtype", "--dst-type", "LOCAL"]
            if isIPv6 {
                destinations += ["!", "-d", "::1/128"]
            } else if !options.localhostNodePorts {
                destinations += ["!", "-d", "127.0.0.0/8"]
            }
            out.natRules.write(["-A", Self.servicesChain, "-m", "comment", "--comment", comment] + destinations + ["-j", Self.nodePortsChain])
        } else {
            for ip in options.nodePortAddresses.matchingAddresses(options.hostAddresses) {
                if ip.isLoopback && (isIPv6 || !options.localhostNodePorts) { continue }
                out.natRules.write("-A", Self.servicesChain, "-m", "comment", "--comment", comment, "-d", ip.description, "-j", Self.nodePortsChain)
            }
        }
    }

    /// KUBE-FORWARD: drop INVALID (unless conntrack is liberal), accept marked and established traffic.
    private func writeForwardRules(into out: inout Buffers) {
        let mark = options.masqueradeMark
        if !options.features.tcpBeLiberal {
            var rule = ["-A", Self.forwardChain, "-m", "conntrack", "--ctstate", "INVALID"]
            if options.features.nfacctCounters.contains(KernelFeatures.ctStateInvalidDroppedCounter) {
                rule += ["-m", "nfacct", "--nfacct-name", KernelFeatures.ctStateInvalidDroppedCounter]
            }
            out.filterRules.write(rule + ["-j", "DROP"])
        }
        out.filterRules.write("-A", Self.forwardChain, "-m", "comment", "--comment", "\"kubernetes forwarding rules\"",
                              "-m", "mark", "--mark", "\(mark)/\(mark)", "-j", "ACCEPT")
        out.filterRules.write("-A", Self.forwardChain, "-m", "comment", "--comment", "\"kubernetes forwarding conntrack rule\"",
                              "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
    }

    /// The four line buffers of a sync.
    struct Buffers {
        var filterChains = LineBuffer()
        var filterRules = LineBuffer()
        var natChains = LineBuffer()
        var natRules = LineBuffer()
        /// Service-address rules waiting for the dispatch tree.
        var dispatchEntries: [DispatchTree.Entry] = []
    }
}
