import NFTablesRules

extension ProxierInputs {
    /// The nftables compiler for these inputs.
    public var nftablesCompiler: NFTablesCompiler { NFTablesCompiler(options: options.common, family: state.family) }

    /// The table a fresh nftables proxier's first sync leaves in the kernel.
    public func firstSyncNFTablesState() throws -> NFTablesState {
        let plan = nftablesCompiler.compile(state, scope: .full, previous: nil, existingChains: [], existingSets: [])
        var table = NFTablesState(family: state.family == .ipv4 ? "ip" : "ip6", table: NFTablesCompiler.table)
        try table.apply(plan.transaction)
        return table
    }
}
