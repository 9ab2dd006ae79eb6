/// What one nftables sync does, and what the proxier keeps for the next one.
public struct NFTablesSyncPlan: Hashable, Sendable {
    /// The transaction: one `nft -f -` call (empty when nothing changed).
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
