import KubeProxyCore

/// The result of compiling one sync: the restore payload and the facts the proxier records.
public struct IPTablesSyncPlan: Hashable, Sendable {
    /// The text for `iptables-restore --noflush --counters`: `*filter … COMMIT` then `*nat … COMMIT`.
    public var payload: String
    /// Whether every service's chains were written.
    public var isFull: Bool
    /// The nat chains this state uses (written or not); anything else with a service prefix is stale.
    public var activeNATChains: Set<String>
    /// Stale chains this payload flushes and deletes.
    public var deletedChains: [String]
    /// Number of filter rules (`kubeproxy_sync_proxy_rules_iptables_total{table="filter"}`).
    public var filterRuleCount: Int
    /// nat rules written in this payload (`…_iptables_last{table="nat"}`).
    public var natRulesWritten: Int
    /// nat rules of the whole state (`…_iptables_total{table="nat"}`).
    public var natRuleTotal: Int
    /// Whether endpoint-rule comments were dropped (more than the threshold of endpoints).
    public var largeClusterMode: Bool
    /// Service ports whose internal traffic has no local endpoint.
    public var noLocalEndpointsInternal: Int
    /// Service ports whose external traffic has no local endpoint.
    public var noLocalEndpointsExternal: Int
    /// What was computed of each Service port's own chains; a later partial compile of an
    /// unchanged Service reuses it instead of generating the rules again.
    public var serviceSummaries: [ServicePortName: ServiceChainsSummary]
    /// The dispatch tree's chains and their rules (empty in the flat layout).
    public var dispatchChains: [String: [String]]
}

/// What a compile learnt of one Service port's own nat chains (SVC/SVL/EXT/FW/SEP).
public struct ServiceChainsSummary: Hashable, Sendable {
    /// How many rules they hold.
    public var rules: Int
    /// The hash suffix of its SVC/SVL/EXT/FW chains.
    public var hash: String
    /// Its KUBE-SEP chains.
    public var endpointChains: [String]
}
