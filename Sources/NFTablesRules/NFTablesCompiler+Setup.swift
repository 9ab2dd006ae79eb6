import KubeProxyCore

extension NFTablesCompiler {
    typealias Base = NFTObject.BaseChain

    /// The base chains, by name: hook, type and priority as upstream (dstnat -100, srcnat 100).
    var baseChains: [(String, Base, [String])] {
        [
            ("filter-prerouting-pre-dnat", Base(type: "filter", hook: "prerouting", priority: -110), ["ct state new jump firewall-check"]),
            ("filter-output-pre-dnat", Base(type: "filter", hook: "output", priority: -110), ["ct state new jump firewall-check"]),
            ("filter-forward", Base(type: "filter", hook: "forward", priority: 0),
             ["ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"]),
            ("filter-input", Base(type: "filter", hook: "input", priority: 0),
             ["ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"]),
            ("filter-output", Base(type: "filter", hook: "output", priority: 0),
             ["ct state new jump service-endpoints-check", "ct state new jump cluster-ips-check"]),
            ("nat-output", Base(type: "nat", hook: "output", priority: -100), ["jump services"]),
            ("nat-postrouting", Base(type: "nat", hook: "postrouting", priority: 100),
             options.nftablesLayout == .endpointMaps ? [hairpinRule, "jump masquerading"] : ["jump masquerading"]),
            ("nat-prerouting", Base(type: "nat", hook: "prerouting", priority: -100), ["jump services"]),
        ]
    }

    /// The regular chains every sync has, with their rules.
    func fixedChains(serviceCIDRs: [String]) -> [(String, String?, [String])] {
        let mark = options.masqueradeMark
        let nodePorts = options.nodePortAddresses.matchAll
            ? "fib daddr type local \(ipX) daddr != \(noLocalhost)" : "\(ipX) daddr @\(Self.nodePortIPs)"
        var clusterIPsCheck = ["\(ipX) daddr @\(Self.clusterIPs) reject comment \"Reject traffic to invalid ports of ClusterIPs\""]
        if !serviceCIDRs.isEmpty {
            clusterIPsCheck.append("\(ipX) daddr { \(serviceCIDRs.joined(separator: ", ")) } drop comment \"Drop traffic to unallocated ClusterIPs\"")
        }
        return [
            ("services", nil, ["\(ipX) daddr . meta l4proto . th dport vmap @\(Self.serviceIPs)",
                               "\(nodePorts) meta l4proto . th dport vmap @\(Self.serviceNodePorts)"]),
            ("service-endpoints-check", nil, ["\(ipX) daddr . meta l4proto . th dport vmap @\(Self.noEndpointServices)"]),
            ("nodeport-endpoints-check", nil, ["\(nodePorts) meta l4proto . th dport vmap @\(Self.noEndpointNodePorts)"]),
            ("reject-chain", "helper for @no-endpoint-services / @no-endpoint-nodeports", ["reject"]),
            ("firewall-check", nil, ["\(ipX) daddr . meta l4proto . th dport vmap @\(Self.firewallIPs)"]),
            ("cluster-ips-check", nil, clusterIPsCheck),
            ("mark-for-masquerade", nil, ["mark set mark or \(mark)"]),
            ("masquerading", nil, ["mark and \(mark) == 0 return", "mark set mark xor \(mark)", "masquerade fully-random"]),
        ]
    }

    /// The sets and maps every sync has.
    var containers: [NFTObject] {
        let key = "\(addrType) . inet_proto . inet_service : verdict"
        var list: [NFTObject] = [
            .set(name: Self.clusterIPs, type: addrType, flags: [], timeoutSeconds: nil, comment: "Active ClusterIPs"),
            .map(name: Self.serviceIPs, type: key, comment: "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
            .map(name: Self.serviceNodePorts, type: "inet_proto . inet_service : verdict", comment: "NodePort traffic"),
            .map(name: Self.firewallIPs, type: key, comment: "destinations that are subject to LoadBalancerSourceRanges"),
            .map(name: Self.noEndpointServices, type: key, comment: "vmap to drop or reject packets to services with no endpoints"),
            .map(name: Self.noEndpointNodePorts, type: "inet_proto . inet_service : verdict",
                 comment: "vmap to drop or reject packets to service nodeports with no endpoints"),
        ]
        if options.nftablesLayout == .endpointMaps { list.append(hairpinSet) }
        if !options.nodePortAddresses.matchAll {
            list.insert(.set(name: Self.nodePortIPs, type: addrType, flags: [], timeoutSeconds: nil, comment: "IPs that accept NodePort traffic"), at: 1)
        }
        return list
    }

    /// A full sync's frame: the table, every fixed chain and container (flushed), and their rules.
    func writeSetup(_ tx: inout NFTTransaction, firstSync: Bool, existingSets: Set<String>?, serviceCIDRs: [String]) {
        tx.add(.table(comment: "rules for kube-proxy"))
        for c in containers {
            tx.add(c)
            tx.flush(c)
        }
        if firstSync {
            // Re-create base chains once per process, so that a changed hook or priority applies.
            for (name, base, _) in baseChains {
                tx.add(.chain(name: name, base: base, comment: nil))
                tx.delete(.chain(name: name, base: base, comment: nil))
            }
        }
        let fixed = fixedChains(serviceCIDRs: serviceCIDRs)
        for (name, comment, _) in fixed {
            tx.add(.chain(name: name, base: nil, comment: comment))
            tx.flush(.chain(name: name, base: nil, comment: comment))
        }
        for (name, base, _) in baseChains {
            tx.add(.chain(name: name, base: base, comment: nil))
            tx.flush(.chain(name: name, base: base, comment: nil))
        }
        if options.nodePortAddresses.matchAll, existingSets?.contains(Self.nodePortIPs) == true {
            tx.delete(.set(name: Self.nodePortIPs, type: addrType, flags: [], timeoutSeconds: nil, comment: nil))
        }
        if options.nftablesLayout != .endpointMaps, existingSets?.contains(Self.endpointHairpin) == true {
            tx.delete(hairpinSet)
        }
        for (name, _, rules) in fixed {
            for rule in rules { tx.add(.rule(chain: name, text: rule)) }
        }
        for (name, _, rules) in baseChains {
            for rule in rules { tx.add(.rule(chain: name, text: rule)) }
        }
    }
}
