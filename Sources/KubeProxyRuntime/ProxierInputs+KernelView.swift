import IPTablesRules
import KubeProxyCore
import KubeProxyModel

extension ProxierInputs {
    /// The tables a fresh node would hold after this first sync: the payload restored into empty
    /// tables plus the jump rules from the built-in chains. This is what `trace` walks.
    public func kernelView() throws -> IPTablesDump {
        var dump = IPTablesDump(tables: [
            .init(name: "filter", chains: ["INPUT", "FORWARD", "OUTPUT"].map { .init(name: $0) }),
            .init(name: "nat", chains: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"].map { .init(name: $0) }),
        ])
        try dump.applyRestore(firstSyncPayload())
        var jumps = IPTablesJumpRule.all
        if state.family == .ipv4 && options.localhostNodePorts { jumps += IPTablesJumpRule.kubeletFirewall }
        for jump in jumps {
            guard let t = dump.tables.firstIndex(where: { $0.name == jump.table }),
                  let c = dump.tables[t].index(of: jump.from) else { continue }
            dump.tables[t].chains[c].rules.insert(try IPTablesRule(line: jump.restoreLine), at: 0)
        }
        return dump
    }
}
