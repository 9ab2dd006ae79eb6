extension NFTablesSyncPlan {
    /// The sync as a sequence of `nft -f` transactions that leaves the same table as
    /// ``transaction``, but fast for large syncs.
    ///
    /// Each anonymous set (one `numgen … vmap` per Service port) makes the kernel walk the whole
    /// pending transaction (`__nft_set_trans_bind`), so one transaction with N Services costs O(N²).
    /// Stages bound that walk: first the table's shared containers are created if missing (add is a
    /// no-op when they exist), then the Service ports' own chains and rules, `servicesPerStage` ports
    /// per transaction (each port's chains are flushed and refilled inside one transaction), and last
    /// the upstream setup with every flush, element and stale-chain flush, so nothing reaches a new
    /// chain, and nothing old is unlinked, before the last stage commits.
    ///
    /// - Parameter servicesPerStage: ports per transaction; 0, or a sync with no more ports than that,
    ///   gives the single upstream transaction.
    public func stages(servicesPerStage: Int) -> [NFTTransaction] {
        guard servicesPerStage > 0, perService.count > servicesPerStage else { return transaction.isEmpty ? [] : [transaction] }
        var result: [NFTTransaction] = []
        var containers = NFTTransaction(family: transaction.family, table: transaction.table)
        for op in setup.operations where op.verb == .add {
            switch op.object {
            case .table, .set, .map, .chain(_, nil, _): containers.add(op.object)
            default: break
            }
        }
        if !containers.isEmpty { result.append(containers) }
        var start = 0
        while start < perService.count {
            var stage = NFTTransaction(family: transaction.family, table: transaction.table)
            for service in perService[start..<min(start + servicesPerStage, perService.count)] { stage.append(service) }
            result.append(stage)
            start += servicesPerStage
        }
        var last = setup
        last.append(tail)
        if !last.isEmpty { result.append(last) }
        return result
    }
}
