/// Reading a table back over netlink (dumps), for the integrity check: chains, rules per chain,
/// sets, elements per set. Only the top-level attributes are read.
extension NFTablesNetlink {
    static let getChain: UInt16 = 4, getRule: UInt16 = 7, getSet: UInt16 = 10, getSetElement: UInt16 = 13
    static let dumpFlag: UInt16 = 0x300
    enum DumpSetAttribute { static let table: UInt16 = 1, name: UInt16 = 2 }

    /// `NFT_MSG_GETCHAIN` dump of a family (every table's chains: filter by ``name(in:table:)``).
    public static func dumpChains(family: Family, sequence: UInt32) -> NetlinkMessage {
        message(getChain, family: family, [], flags: dumpFlag, sequence: sequence, ack: false)
    }

    /// `NFT_MSG_GETRULE` dump of one table's rules, or of one chain's.
    public static func dumpRules(family: Family, table: String, chain: String? = nil, sequence: UInt32) -> NetlinkMessage {
        message(getRule, family: family, [.string(RuleAttribute.table, table)] + (chain.map { [.string(RuleAttribute.chain, $0)] } ?? []),
                flags: dumpFlag, sequence: sequence, ack: false)
    }

    /// `NFT_MSG_GETSET` dump of a family (every table's sets).
    public static func dumpSets(family: Family, sequence: UInt32) -> NetlinkMessage {
        message(getSet, family: family, [], flags: dumpFlag, sequence: sequence, ack: false)
    }

    /// `NFT_MSG_GETSETELEM` dump of one set's elements.
    public static func dumpElements(family: Family, table: String, set: String, sequence: UInt32) -> NetlinkMessage {
        message(getSetElement, family: family, [.string(ListAttribute.table, table), .string(ListAttribute.set, set)],
                flags: dumpFlag, sequence: sequence, ack: false)
    }

    static func topLevel(_ message: NetlinkMessage) throws -> [NetlinkAttribute] {
        message.payload.count >= 4 ? try NetlinkAttribute.parse(message.payload[4...]) : []
    }

    /// The chain (GETCHAIN reply) or set (GETSET reply) `message` names, when it is in `table`.
    public static func name(in message: NetlinkMessage, table: String) throws -> String? {
        let attributes = try topLevel(message)
        // Chains and sets both carry the table as attribute 1; the name is 3 for chains, 2 for sets.
        guard attributes.first(1)?.string == table else { return nil }
        return message.type & 0xFF == newChain ? attributes.first(ChainAttribute.name)?.string : attributes.first(DumpSetAttribute.name)?.string   // replies are NEWCHAIN, NEWSET
    }

    /// The chain a GETRULE reply's rule is in.
    public static func ruleChain(in message: NetlinkMessage) throws -> String? { try topLevel(message).first(RuleAttribute.chain)?.string }

    /// How many elements a GETSETELEM reply carries.
    public static func elementCount(in message: NetlinkMessage) throws -> Int {
        try topLevel(message).first(ListAttribute.elements)?.children().count ?? 0
    }
}
