import Foundation
import KubeProxyCore
import KubeProxyModel

/// Writes the rules of one Service port at a time, remembering what a sync needs across ports:
/// the chains in use, the no-local-endpoint counts and the probability strings.
struct ServicePortContext {
    let options: IPTablesCompilerOptions
    let isIPv6: Bool
    let largeClusterMode: Bool
    private(set) var activeNATChains = Set<String>()
    private(set) var noLocalEndpointsInternal = 0
    private(set) var noLocalEndpointsExternal = 0
    private var probabilities: [Int: String] = [:]
    /// What the previous plan knew of each Service port's own chains.
    let reusable: [ServicePortName: ServiceChainsSummary]?
    /// What this plan knows of them.
    private(set) var summaries: [ServicePortName: ServiceChainsSummary] = [:]
    /// Rules of Service chains not written this time (they stay in the kernel).
    private(set) var skippedRuleCount = 0

    init(options: IPTablesCompilerOptions, isIPv6: Bool, largeClusterMode: Bool, reusable: [ServicePortName: ServiceChainsSummary]?) {
        self.options = options
        self.isIPv6 = isIPv6
        self.largeClusterMode = largeClusterMode
        self.reusable = reusable
    }

    typealias C = IPTablesCompiler

    /// Writes every rule of `svc`; its own chains go to the skipped buffers unless `writeChains`.
    mutating func write(_ svc: ServicePortInfo, selection: EndpointSelection, into out: inout IPTablesCompiler.Buffers, writeChains: Bool) {
        let name = svc.name
        let s = IPTablesText.comment(name)
        let p = svc.protocol.lowercased
        let port = String(svc.port)
        let hasEndpoints = selection.hasAnyEndpoints

        // An unchanged Service whose chains the last plan described: reuse its hashes and counts.
        let known = writeChains ? nil : reusable?[name]
        let hash = known?.hash ?? ChainNames.portProtoHash(name.description, p)
        let clusterPolicyChain = "KUBE-SVC-" + hash
        let localPolicyChain = "KUBE-SVL-" + hash
        let externalTrafficChain = "KUBE-EXT-" + hash
        let fwChain = "KUBE-FW-" + hash

        var sepChains: [String: String] = [:]
        if known == nil {
            for ep in selection.allReachableEndpoints { sepChains[ep.description] = ChainNames.endpointChain(name, endpoint: ep.description) }
        }
        func sepChain(_ ep: Endpoint) -> String { sepChains[ep.description] ?? ChainNames.endpointChain(name, endpoint: ep.description) }
        var ownChains = known?.endpointChains ?? Array(sepChains.values)
        let usesClusterPolicyChain = selection.usesClusterPolicy
        if usesClusterPolicyChain { ownChains.append(clusterPolicyChain) }
        let usesLocalPolicyChain = selection.usesLocalPolicy
        if usesLocalPolicyChain { ownChains.append(localPolicyChain) }

        let internalTrafficChain = selection.internalPolicyLocal ? localPolicyChain : clusterPolicyChain
        let hasInternalEndpoints = selection.hasInternalEndpoints
        let externalPolicyChain = selection.externalPolicyLocal ? localPolicyChain : clusterPolicyChain
        let hasExternalEndpoints = selection.hasExternalEndpoints
        let usesExternalTrafficChain = hasEndpoints && svc.externallyAccessible
        if usesExternalTrafficChain { ownChains.append(externalTrafficChain) }
        var loadBalancerTrafficChain = externalTrafficChain
        let usesFWChain = hasEndpoints && !svc.loadBalancerVIPs.isEmpty && !svc.loadBalancerSourceRanges.isEmpty
        if usesFWChain {
            ownChains.append(fwChain)
            loadBalancerTrafficChain = fwChain
        }
        activeNATChains.formUnion(ownChains)

        var internalFilterTarget = "", internalFilterComment = ""
        var externalFilterTarget = "", externalFilterComment = ""
        if !hasEndpoints {
            internalFilterTarget = "REJECT"
            internalFilterComment = "\"\(s) has no endpoints\""
            externalFilterTarget = "REJECT"
            externalFilterComment = internalFilterComment
        } else {
            if !hasInternalEndpoints {
                internalFilterTarget = "DROP"
                internalFilterComment = "\"\(s) has no local endpoints\""
                noLocalEndpointsInternal += 1
            }
            if !hasExternalEndpoints {
                externalFilterTarget = "DROP"
                externalFilterComment = "\"\(s) has no local endpoints\""
                noLocalEndpointsExternal += 1
            }
        }

        // ClusterIP.
        if hasInternalEndpoints {
            dispatch(&out, svc.clusterIP, ["-m", "comment", "--comment", "\"\(s) cluster IP\"", "-m", p, "-p", p,
                                           "-d", svc.clusterIP.description, "--dport", port, "-j", internalTrafficChain])
        } else {
            out.filterRules.write("-A", C.servicesChain, "-m", "comment", "--comment", internalFilterComment, "-m", p, "-p", p,
                                  "-d", svc.clusterIP.description, "--dport", port, "-j", internalFilterTarget)
        }
        // External IPs.
        for ip in svc.externalIPs {
            if hasEndpoints {
                dispatch(&out, ip, ["-m", "comment", "--comment", "\"\(s) external IP\"", "-m", p, "-p", p,
                                    "-d", ip.description, "--dport", port, "-j", externalTrafficChain])
            }
            if !hasExternalEndpoints {
                out.filterRules.write("-A", C.externalServicesChain, "-m", "comment", "--comment", externalFilterComment, "-m", p, "-p", p,
                                      "-d", ip.description, "--dport", port, "-j", externalFilterTarget)
            }
        }
        // Load-balancer VIPs.
        for ip in svc.loadBalancerVIPs {
            if hasEndpoints {
                dispatch(&out, ip, ["-m", "comment", "--comment", "\"\(s) loadbalancer IP\"", "-m", p, "-p", p,
                                    "-d", ip.description, "--dport", port, "-j", loadBalancerTrafficChain])
            }
            if usesFWChain {
                out.filterRules.write("-A", C.proxyFirewallChain, "-m", "comment", "--comment", "\"\(s) traffic not accepted by \(fwChain)\"",
                                      "-m", p, "-p", p, "-d", ip.description, "--dport", port, "-j", "DROP")
            }
        }
        if !hasExternalEndpoints {
            for ip in svc.loadBalancerVIPs {
                out.filterRules.write("-A", C.externalServicesChain, "-m", "comment", "--comment", externalFilterComment, "-m", p, "-p", p,
                                      "-d", ip.description, "--dport", port, "-j", externalFilterTarget)
            }
        }
        // NodePort.
        if svc.nodePort != 0 {
            let nodePort = String(svc.nodePort)
            if hasEndpoints {
                if options.localhostNodePorts && !isIPv6 && options.features.nfacctCounters.contains(KernelFeatures.localhostNodePortsAcceptedCounter) {
                    out.natRules.write("-A", C.nodePortsChain, "-m", "comment", "--comment", s, "-m", p, "-p", p, "-d", "127.0.0.0/8",
                                       "--dport", nodePort, "-m", "nfacct", "--nfacct-name", KernelFeatures.localhostNodePortsAcceptedCounter,
                                       "-j", externalTrafficChain)
                }
                out.natRules.write("-A", C.nodePortsChain, "-m", "comment", "--comment", s, "-m", p, "-p", p,
                                   "--dport", nodePort, "-j", externalTrafficChain)
            }
            if !hasExternalEndpoints {
                out.filterRules.write("-A", C.externalServicesChain, "-m", "comment", "--comment", externalFilterComment,
                                      "-m", "addrtype", "--dst-type", "LOCAL", "-m", p, "-p", p, "--dport", nodePort, "-j", externalFilterTarget)
            }
        }
        // Health-check node port.
        if svc.healthCheckNodePort != 0 {
            out.filterRules.write("-A", C.nodePortsChain, "-m", "comment", "--comment", "\"\(s) health check node port\"",
                                  "-m", "tcp", "-p", "tcp", "--dport", String(svc.healthCheckNodePort), "-j", "ACCEPT")
        }

        // The service's own chains: an unchanged Service's are already in the kernel; when the last
        // plan counted them, count them again without writing them.
        if let known {
            skippedRuleCount += known.rules
            summaries[name] = known
            return
        }
        var chains = LineBuffer()
        var rules = LineBuffer()
        if hasInternalEndpoints {
            let args = ["-m", "comment", "--comment", "\"\(s) cluster IP\"", "-m", p, "-p", p, "-d", svc.clusterIP.description, "--dport", port]
            if options.masqueradeAll {
                rules.write(["-A", internalTrafficChain] + args + ["-j", C.markMasqChain])
            } else if options.localDetector.isImplemented {
                rules.write(["-A", internalTrafficChain] + args + options.localDetector.ifNotLocal + ["-j", C.markMasqChain])
            }
        }
        if usesExternalTrafficChain {
            chains.writeLine(chainLine(externalTrafficChain))
            if !svc.externalPolicyLocal {
                rules.write("-A", externalTrafficChain, "-m", "comment", "--comment", "\"masquerade traffic for \(s) external destinations\"", "-j", C.markMasqChain)
            } else {
                if options.localDetector.isImplemented {
                    rules.write(["-A", externalTrafficChain, "-m", "comment", "--comment", "\"pod traffic for \(s) external destinations\""]
                                + options.localDetector.ifLocal + ["-j", clusterPolicyChain])
                }
                rules.write("-A", externalTrafficChain, "-m", "comment", "--comment", "\"masquerade LOCAL traffic for \(s) external destinations\"",
                            "-m", "addrtype", "--src-type", "LOCAL", "-j", C.markMasqChain)
                rules.write("-A", externalTrafficChain, "-m", "comment", "--comment", "\"route LOCAL traffic for \(s) external destinations\"",
                            "-m", "addrtype", "--src-type", "LOCAL", "-j", clusterPolicyChain)
            }
            if hasExternalEndpoints {
                rules.write("-A", externalTrafficChain, "-j", externalPolicyChain)
            }
        }
        if usesFWChain {
            chains.writeLine(chainLine(fwChain))
            let args = ["-A", fwChain, "-m", "comment", "--comment", "\"\(s) loadbalancer IP\""]
            var allowFromNode = false
            for cidr in svc.loadBalancerSourceRanges {
                rules.write(args + ["-s", cidr.description, "-j", externalTrafficChain])
                if let nodeIP = options.nodeIP, cidr.contains(nodeIP) { allowFromNode = true }
            }
            if allowFromNode {
                for ip in svc.loadBalancerVIPs {
                    rules.write(args + ["-s", ip.description, "-j", externalTrafficChain])
                }
            }
            rules.write("-A", fwChain, "-m", "comment", "--comment", "\"other traffic to \(s) will be dropped by KUBE-PROXY-FIREWALL\"")
        }
        if usesClusterPolicyChain {
            chains.writeLine(chainLine(clusterPolicyChain))
            writeEndpointRules(&rules, svc: svc, chain: clusterPolicyChain, endpoints: selection.clusterEndpoints, sepChain: sepChain)
        }
        if usesLocalPolicyChain {
            chains.writeLine(chainLine(localPolicyChain))
            writeEndpointRules(&rules, svc: svc, chain: localPolicyChain, endpoints: selection.localEndpoints, sepChain: sepChain)
        }
        for ep in selection.allReachableEndpoints {
            let chain = sepChain(ep)
            chains.writeLine(chainLine(chain))
            var args = ["-A", chain] + comment(s)
            rules.write(args + ["-s", ep.ip.description, "-j", C.markMasqChain])
            if svc.stickyMaxAgeSeconds != nil { args += ["-m", "recent", "--name", chain, "--set"] }
            rules.write(args + ["-m", p, "-p", p, "-j", "DNAT", "--to-destination", ep.description])
        }

        summaries[name] = ServiceChainsSummary(rules: rules.count, hash: hash, endpointChains: Array(sepChains.values))
        if writeChains {
            chains.lines.forEach { out.natChains.writeLine($0) }
            rules.lines.forEach { out.natRules.writeLine($0) }
        } else {
            skippedRuleCount += rules.count
        }
    }

    /// Records a chain the state uses that is not a Service's own (a dispatch-tree chain).
    mutating func addActive(_ chain: String) { activeNATChains.insert(chain) }

    /// Counts rules that stay in the kernel without being written again.
    mutating func countSkipped(_ rules: Int) { skippedRuleCount += rules }

    /// A KUBE-SERVICES rule for one Service address: written at once in the flat layout, kept for
    /// the dispatch tree otherwise.
    private func dispatch(_ out: inout IPTablesCompiler.Buffers, _ destination: IPAddress, _ words: [String]) {
        if case .flat = options.dispatch {
            out.natRules.write(["-A", C.servicesChain] + words)
        } else {
            out.dispatchEntries.append(DispatchTree.Entry(destination: destination, words: words))
        }
    }

    /// The SVC/SVL rules: affinity checks first, then a cascade of random matches.
    private mutating func writeEndpointRules(_ rules: inout LineBuffer, svc: ServicePortInfo, chain: String, endpoints: [Endpoint],
                                             sepChain: (Endpoint) -> String) {
        let s = IPTablesText.comment(svc.name)
        if let seconds = svc.stickyMaxAgeSeconds {
            for ep in endpoints {
                let sep = sepChain(ep)
                rules.write(["-A", chain] + comment("\"\(s) -> \(ep.description)\"")
                            + ["-m", "recent", "--name", sep, "--rcheck", "--seconds", String(seconds), "--reap", "-j", sep])
            }
        }
        let n = endpoints.count
        for (i, ep) in endpoints.enumerated() {
            let sep = sepChain(ep)
            var args = ["-A", chain] + comment("\"\(s) -> \(ep.description)\"")
            if i < n - 1 {
                args += ["-m", "statistic", "--mode", "random", "--probability", probability(n - i)]
            }
            rules.write(args + ["-j", sep])
        }
    }

    /// The comment match, left out in large-cluster mode.
    private func comment(_ text: String) -> [String] {
        largeClusterMode ? [] : ["-m", "comment", "--comment", text]
    }

    /// `1/n` with ten decimals, as upstream's `%0.10f`.
    private mutating func probability(_ n: Int) -> String {
        if let cached = probabilities[n] { return cached }
        let text = String(format: "%0.10f", 1.0 / Double(n))
        probabilities[n] = text
        return text
    }
}
