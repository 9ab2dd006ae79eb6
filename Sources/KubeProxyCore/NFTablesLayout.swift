/// How nftables mode chooses a Service's endpoint (`nftables.layout`, swift-kube-proxy's own).
public enum NFTablesLayout: String, Hashable, Sendable, CaseIterable {
    /// Upstream's table: a chain per endpoint, chosen by `numgen random mod N vmap { … : goto … }`
    /// (an anonymous map per Service port). Byte-identical to kube-proxy's.
    case upstream
    /// Endpoints chosen by a named interval map per Service port and policy
    /// (`dnat to numgen random mod 65536 map @cluster-endpoints-…`), hairpin traffic masqueraded
    /// by one set of endpoint address pairs: no anonymous map, no endpoint chain, and an
    /// endpoint change is an element update (no new jump or goto, so no table re-validation).
    /// Services with session affinity keep upstream's endpoint chains.
    case endpointMaps = "endpoint-maps"
}
