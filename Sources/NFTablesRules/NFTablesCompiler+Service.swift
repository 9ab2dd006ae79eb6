import KubeProxyCore
import KubeProxyModel

extension NFTablesCompiler {
    /// `ip saddr != <pods>` (or the interface form) for "not from a local pod".
    var ifNotLocal: String? { localMatch(negated: true) }

    /// `ip saddr <pods>` (or the interface form) for "from a local pod".
    var ifLocal: String? { localMatch(negated: false) }

    private func localMatch(negated: Bool) -> String? {
        let op = negated ? "!= " : ""
        switch options.localDetector {
        case .none: return nil
        case .cidr(let c): return "\(ipX) saddr \(op)\(c)"
        case .bridge(let b): return "iifname \(op)\"\(b)\""
        case .interfacePrefix(let p): return "iifname \(op)\"\(p)*\""
        }
    }

    /// Writes one Service port: its elements, sets, chains and rules; in the `endpoint-maps`
    /// layout its endpoint maps and their elements go to `maps`.
    func writeService(_ svc: ServicePortInfo, _ selection: EndpointSelection, chains: inout NFTTransaction, rules: inout NFTTransaction,
                      maps: inout NFTTransaction, elements: inout DesiredElements, active: inout Set<String>, activeSets: inout Set<String>) {
        let name = svc.name
        let s = NFTText.comment(name)
        let p = svc.protocol.lowercased
        let hasEndpoints = selection.hasAnyEndpoints
        let clusterChain = NFTChainNames.service(name)
        let localChain = NFTChainNames.local(name)
        let externalChain = NFTChainNames.external(name)
        let firewallChain = NFTChainNames.firewall(name)

        let usesClusterChain = selection.usesClusterPolicy
        let usesLocalChain = selection.usesLocalPolicy
        let internalChain = selection.internalPolicyLocal ? localChain : clusterChain, hasInternal = selection.hasInternalEndpoints
        let externalPolicyChain = selection.externalPolicyLocal ? localChain : clusterChain, hasExternal = selection.hasExternalEndpoints
        let usesExternalChain = hasEndpoints && svc.externallyAccessible
        let usesFirewall = hasEndpoints && !svc.loadBalancerVIPs.isEmpty && !svc.loadBalancerSourceRanges.isEmpty
        let internalVerdict = hasEndpoints ? "drop" : "goto reject-chain"
        let externalVerdict = internalVerdict

        // Elements.
        elements.add(Self.clusterIPs, svc.clusterIP.description)
        let port = "\(p) . \(svc.port)"
        if hasInternal {
            elements.add(Self.serviceIPs, "\(svc.clusterIP) . \(port)", value: "goto \(internalChain)")
        } else {
            elements.add(Self.noEndpointServices, "\(svc.clusterIP) . \(port)", value: internalVerdict, comment: s)
        }
        for ip in svc.externalIPs + svc.loadBalancerVIPs {
            if hasEndpoints { elements.add(Self.serviceIPs, "\(ip) . \(port)", value: "goto \(externalChain)") }
            if !hasExternal { elements.add(Self.noEndpointServices, "\(ip) . \(port)", value: externalVerdict, comment: s) }
        }
        if usesFirewall {
            for ip in svc.loadBalancerVIPs { elements.add(Self.firewallIPs, "\(ip) . \(port)", value: "goto \(firewallChain)") }
        }
        if svc.nodePort != 0 {
            if hasEndpoints { elements.add(Self.serviceNodePorts, "\(p) . \(svc.nodePort)", value: "goto \(externalChain)") }
            if !hasExternal { elements.add(Self.noEndpointNodePorts, "\(p) . \(svc.nodePort)", value: externalVerdict, comment: s) }
        }

        // Chains.
        var own: [(String, [String])] = []
        var sets: [NFTObject] = []
        let mapped = usesEndpointMaps(svc)
        for (uses, chain, map, endpoints) in [(usesClusterChain, clusterChain, NFTChainNames.clusterEndpoints(name), selection.clusterEndpoints),
                                              (usesLocalChain, localChain, NFTChainNames.localEndpoints(name), selection.localEndpoints)] where uses {
            own.append((chain, endpointRules(svc, chain: chain == internalChain, endpoints, map: mapped ? map : nil)))
            if mapped {
                activeSets.insert(map)
                writeEndpointMap(map, svc, endpoints, into: &maps)
            }
        }
        if usesExternalChain {
            var r: [String] = []
            if !svc.externalPolicyLocal {
                r = ["jump mark-for-masquerade", "goto \(clusterChain)"]
            } else {
                if let ifLocal { r.append("\(ifLocal) goto \(clusterChain) comment \"short-circuit pod traffic\"") }
                r.append("fib saddr type local jump mark-for-masquerade comment \"masquerade local traffic\"")
                r.append("fib saddr type local goto \(clusterChain) comment \"short-circuit local traffic\"")
                if hasExternal { r.append("goto \(externalPolicyChain)") }
            }
            own.append((externalChain, r))
        }
        if usesFirewall {
            var allowed = svc.loadBalancerSourceRanges.map(\.description)
            if let nodeIP = options.nodeIP, svc.loadBalancerSourceRanges.contains(where: { $0.contains(nodeIP) }) {
                allowed += svc.loadBalancerVIPs.map(\.description)
            }
            own.append((firewallChain, ["\(ipX) saddr != { \(allowed.joined(separator: ", ")) } drop"]))
        }
        for ep in selection.allReachableEndpoints {
            if mapped {
                elements.add(Self.endpointHairpin, "\(ep.ip) . \(ep.ip)")
                continue
            }
            let chain = NFTChainNames.endpoint(name, ep)
            var r = ["\(ipX) saddr \(ep.ip) jump mark-for-masquerade"]
            if let seconds = svc.stickyMaxAgeSeconds {
                let set = NFTChainNames.affinity(name, ep)
                activeSets.insert(set)
                sets.append(.set(name: set, type: addrType, flags: ["dynamic", "timeout"], timeoutSeconds: seconds, comment: nil))
                r.append("update @\(set) { \(ipX) saddr }")
            }
            r.append("meta l4proto \(p) dnat to \(ep.description)")
            own.append((chain, r))
        }
        for (chain, _) in own { active.insert(chain) }
        for set in sets { chains.add(set) }
        for (chain, list) in own {
            chains.add(.chain(name: chain, base: nil, comment: nil))
            chains.flush(.chain(name: chain, base: nil, comment: nil))
            for rule in list { rules.add(.rule(chain: chain, text: rule)) }
        }
    }

    /// The rules of a service- or local- chain: masquerade check (internal chain only), affinity, numgen
    /// (into endpoint chains, or through `map` in the `endpoint-maps` layout).
    private func endpointRules(_ svc: ServicePortInfo, chain isInternal: Bool, _ endpoints: [Endpoint], map: String?) -> [String] {
        var r: [String] = []
        if isInternal {
            if options.masqueradeAll {
                r.append("\(ipX) daddr \(svc.clusterIP) jump mark-for-masquerade")
            } else if let ifNotLocal {
                r.append("\(ipX) daddr \(svc.clusterIP) \(ifNotLocal) jump mark-for-masquerade")
            }
        }
        if let map { return r + [endpointMapRule(svc, map: map)] }
        if svc.stickyMaxAgeSeconds != nil {
            for ep in endpoints {
                r.append("\(ipX) saddr @\(NFTChainNames.affinity(svc.name, ep)) goto \(NFTChainNames.endpoint(svc.name, ep))")
            }
        }
        let targets = endpoints.enumerated().map { "\($0.offset) : goto \(NFTChainNames.endpoint(svc.name, $0.element))" }
        r.append("numgen random mod \(endpoints.count) vmap { \(targets.joined(separator: " , ")) }")
        return r
    }
}
