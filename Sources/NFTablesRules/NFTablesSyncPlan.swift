import KubeProxyCore

/// What one nftables sync does, and what the proxier keeps for the next one.
public struct NFTablesSyncPlan: Hashable, Sendable {
    /// The whole sync as one transaction, in upstream's order (empty when nothing changed).
    public var transaction: NFTTransaction
    /// Whether every chain and element was written.
    public var isFull: Bool
    /// The per-service and per-endpoint chains the state uses.
    public var activeChains: Set<String> { memory.chains }
    /// The affinity sets the state uses.
    public var activeAffinitySets: Set<String> { memory.affinitySets }
    /// Chains flushed now because nothing uses them; a later transaction deletes them.
    public var staleChains: [String]
    /// The elements of every set and map after this sync (partial syncs diff against it).
    public var memory: NFTablesMemory
    /// The pieces of ``transaction``: the table's own objects (full syncs), the chains and rules of
    /// each written Service port, then elements and stale-chain flushes. ``stages(servicesPerStage:)``
    /// regroups them.
    public var setup: NFTTransaction
    public var perService: [NFTTransaction]
    public var tail: NFTTransaction
}

/// The elements written by the last successful sync, per set or map (upstream's `nftElementStorage`).
public struct NFTablesMemory: Hashable, Sendable {
    public struct Element: Hashable, Sendable {
        public var value: String?
        public var comment: String?
    }
    public var elements: [String: [String: Element]] = [:]
    /// Keys wanted by more than one Service port (a multi-port Service's ClusterIP): how many more.
    public var sharedKeys: [String: [String: Int]] = [:]
    /// The Service and endpoint chains, and the Service ports' own sets (affinity sets, endpoint maps), the state uses.
    public var chains: Set<String> = [], affinitySets: Set<String> = []
    /// What each Service port contributed, so that a partial sync touches only the changed ports
    /// (names are SHA-256 hashes: recomputing 100k of them costs a second; rehashing 100k names a tenth).
    public var services: [ServicePortName: ServiceRecord] = [:]
    public init() {}

    /// One Service port's chains, sets and elements.
    public struct ServiceRecord: Hashable, Sendable {
        public struct Element: Hashable, Sendable {
            public var container: String, key: String, value: String?, comment: String?
        }
        public var chains: Set<String>
        public var sets: Set<String>
        public var elements: [Element]
        /// In the `endpoint-maps` layout: digests of the port's chains and rules, and of its endpoint
        /// maps (nil without endpoint maps). Same rules, other maps: only map elements are rewritten.
        public var rulesDigest: Int?, mapsDigest: Int?
    }
}
