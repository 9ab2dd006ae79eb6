/// What one nftables sync does, and what the proxier keeps for the next one.
public struct NFTablesSyncPlan: Hashable, Sendable {
    /// The whole sync as one transaction, in upstream's order (empty when nothing changed).
    public var transaction: NFTTransaction
    /// Whether every chain and element was written.
    public var isFull: Bool
    /// The per-service and per-endpoint chains the state uses.
    public var activeChains: Set<String>
    /// The affinity sets the state uses.
    public var activeAffinitySets: Set<String>
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
    public init() {}
}
