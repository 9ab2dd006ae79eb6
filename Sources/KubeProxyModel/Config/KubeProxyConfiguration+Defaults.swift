extension KubeProxyConfiguration {
    /// The proxy mode; upstream's default on Linux is `iptables` (an unknown value is refused by
    /// validation before anything runs).
    public var proxyMode: ProxyMode { mode.flatMap { ProxyMode(rawValue: $0) } ?? .iptables }

    /// ``proxyMode``'s name.
    public var resolvedMode: String { proxyMode.rawValue }

    /// `iptables.masqueradeBit` (`nftables.masqueradeBit` in nftables mode), default 14.
    public var resolvedMasqueradeBit: Int {
        (proxyMode == .nftables ? nftables?.masqueradeBit : iptables?.masqueradeBit) ?? 14
    }

    /// `iptables.masqueradeAll` (`nftables.masqueradeAll` in nftables mode), default false.
    public var resolvedMasqueradeAll: Bool {
        (proxyMode == .nftables ? nftables?.masqueradeAll : iptables?.masqueradeAll) ?? false
    }

    /// `iptables.localhostNodePorts`, default true.
    public var resolvedLocalhostNodePorts: Bool { iptables?.localhostNodePorts ?? true }

    /// `iptables.syncPeriod` (`nftables.` / `ipvs.syncPeriod` in those modes, or the top-level `syncPeriod`), default 30 s.
    public var resolvedSyncPeriod: GoDuration {
        let modePeriod = switch proxyMode {
        case .nftables: nftables?.syncPeriod
        case .ipvs: ipvs?.syncPeriod
        case .iptables: iptables?.syncPeriod
        }
        return syncPeriod ?? modePeriod ?? GoDuration(seconds: 30)
    }

    /// `iptables.minSyncPeriod` (`nftables.` / `ipvs.minSyncPeriod` in those modes, or the top-level one), default 1 s.
    public var resolvedMinSyncPeriod: GoDuration {
        let modePeriod = switch proxyMode {
        case .nftables: nftables?.minSyncPeriod
        case .ipvs: ipvs?.minSyncPeriod
        case .iptables: iptables?.minSyncPeriod
        }
        return minSyncPeriod ?? modePeriod ?? GoDuration(seconds: 1)
    }

    /// The IPVS schedulers upstream's validation accepts, plus `mh` (which kube-proxy special-cases).
    public static let ipvsSchedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh"]

    /// `ipvs.scheduler`, default `rr`.
    public var resolvedIPVSScheduler: String { (ipvs?.scheduler?.isEmpty ?? true) ? "rr" : ipvs!.scheduler! }

    /// `detectLocalMode`, default `ClusterCIDR`.
    public var resolvedDetectLocalMode: String {
        (detectLocalMode?.isEmpty ?? true) ? "ClusterCIDR" : detectLocalMode!
    }

    /// `healthzBindAddress`, default `0.0.0.0:10256`.
    public var resolvedHealthzBindAddress: String { healthzBindAddress ?? "0.0.0.0:10256" }

    /// `metricsBindAddress`, default `127.0.0.1:10249`.
    public var resolvedMetricsBindAddress: String { metricsBindAddress ?? "127.0.0.1:10249" }

    /// Checks the values upstream validates and returns one message per problem, each naming its field.
    /// Whether `name` can be (the prefix of) a network interface name written into a rule.
    static func isInterfaceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return (1...15).contains(bytes.count) && name != "." && name != ".." && bytes.allSatisfy { b in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
        }
    }

    public func validationErrors() -> [String] {
        var errors: [String] = []
        if let mode, !mode.isEmpty, ProxyMode(rawValue: mode) == nil {
            errors.append("KubeProxyConfiguration.mode: Unsupported value: \"\(mode)\": supported values: \"iptables\", \"ipvs\", \"nftables\"")
        }
        if let bit = iptables?.masqueradeBit, !(0...31).contains(bit) {
            errors.append("KubeProxyConfiguration.iptables.masqueradeBit: Invalid value: \(bit): must be within the range [0, 31]")
        }
        if resolvedSyncPeriod.nanoseconds <= 0 {
            errors.append("KubeProxyConfiguration.iptables.syncPeriod: Invalid value: \(resolvedSyncPeriod): must be greater than 0")
        }
        if resolvedMinSyncPeriod.nanoseconds < 0 {
            errors.append("KubeProxyConfiguration.iptables.minSyncPeriod: Invalid value: \(resolvedMinSyncPeriod): must be greater than or equal to 0")
        }
        if resolvedMinSyncPeriod.nanoseconds > resolvedSyncPeriod.nanoseconds {
            errors.append("KubeProxyConfiguration.iptables.minSyncPeriod: Invalid value: \(resolvedMinSyncPeriod): must be less than or equal to \(resolvedSyncPeriod)")
        }
        if let dispatch = iptables?.dispatch, !["flat", "tree"].contains(dispatch),
           !(dispatch.hasPrefix("tree/") && (Int(dispatch.dropFirst(5)) ?? 0) >= 1) {
            errors.append("KubeProxyConfiguration.iptables.dispatch: Unsupported value: \"\(dispatch)\": supported values: \"flat\", \"tree\", \"tree/<leaf size>\"")
        }
        if let layout = nftables?.layout, !["upstream", "endpoint-maps"].contains(layout) {
            errors.append("KubeProxyConfiguration.nftables.layout: Unsupported value: \"\(layout)\": supported values: \"upstream\", \"endpoint-maps\"")
        }
        let localModes = ["ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix"]
        if !localModes.contains(resolvedDetectLocalMode) {
            errors.append("KubeProxyConfiguration.detectLocalMode: Unsupported value: \"\(resolvedDetectLocalMode)\"")
        }
        // Interface names reach rules (`-i br0`, `iifname "veth*"`): only what the kernel allows in one.
        for (field, value, mode) in [("bridgeInterface", detectLocal?.bridgeInterface, "BridgeInterface"),
                                     ("interfaceNamePrefix", detectLocal?.interfaceNamePrefix, "InterfaceNamePrefix")] {
            if resolvedDetectLocalMode == mode && (value ?? "").isEmpty {
                errors.append("KubeProxyConfiguration.detectLocal.\(field): Required value: must be set with detectLocalMode \(mode)")
            } else if let value, !value.isEmpty, !Self.isInterfaceName(value) {
                errors.append("KubeProxyConfiguration.detectLocal.\(field): Invalid value: \(value.debugDescription): must be 1 to 15 of letters, digits, '-', '_' or '.'")
            }
        }
        for cidr in (clusterCIDR ?? "").split(separator: ",") where CIDR(sloppy: String(cidr)) == nil {
            errors.append("KubeProxyConfiguration.clusterCIDR: Invalid value: \"\(cidr)\": must be a valid CIDR")
        }
        for entry in nodePortAddresses ?? [] where entry != "primary" && CIDR(sloppy: entry) == nil {
            errors.append("KubeProxyConfiguration.nodePortAddresses: Invalid value: \"\(entry)\": must be a valid CIDR or \"primary\"")
        }
        if proxyMode == .ipvs {
            if let scheduler = ipvs?.scheduler, !scheduler.isEmpty, !Self.ipvsSchedulers.contains(scheduler) {
                errors.append("KubeProxyConfiguration.ipvs.scheduler: Unsupported value: \"\(scheduler)\": supported values: "
                              + Self.ipvsSchedulers.map { "\"\($0)\"" }.joined(separator: ", "))
            }
            for (i, cidr) in (ipvs?.excludeCIDRs ?? []).enumerated() where CIDR(sloppy: cidr) == nil {
                errors.append("KubeProxyConfiguration.ipvs.excludeCIDRs[\(i)]: Invalid value: \"\(cidr)\": must be a valid CIDR")
            }
            for (field, value) in [("tcpTimeout", ipvs?.tcpTimeout), ("tcpFinTimeout", ipvs?.tcpFinTimeout), ("udpTimeout", ipvs?.udpTimeout)] {
                if let value, value.nanoseconds < 0 {
                    errors.append("KubeProxyConfiguration.ipvs.\(field): Invalid value: \(value): must be greater than or equal to 0")
                }
            }
        }
        if let bind = bindAddress, IPAddress(sloppy: bind) == nil {
            errors.append("KubeProxyConfiguration.bindAddress: Invalid value: \"\(bind)\": not a valid textual representation of an IP address")
        }
        return errors
    }
}
