/// nf_tables over netlink (`include/uapi/linux/netfilter/nf_tables.h`, `nfnetlink.h`): the
/// messages of a transaction — so far set and map elements, regular chains, chain flushes. A transaction is a batch —
/// `NFNL_MSG_BATCH_BEGIN`, the operations, `NFNL_MSG_BATCH_END` — that the kernel commits whole
/// or not at all, sent on a `NETLINK_NETFILTER` socket.
public enum NFTablesNetlink {
    /// `NETLINK_NETFILTER`.
    public static let netlinkProtocol: Int32 = 12
    static let subsystem: UInt16 = 10           // NFNL_SUBSYS_NFTABLES
    static let batchBegin: UInt16 = 0x10, batchEnd: UInt16 = 0x11
    static let newChain: UInt16 = 3, deleteChain: UInt16 = 5, deleteRule: UInt16 = 8
    static let newSetElement: UInt16 = 12, deleteSetElement: UInt16 = 14
    /// `NLM_F_CREATE`: adding an element that exists is not an error (as `nft add element`).
    static let createFlag: UInt16 = 0x400

    /// `NFPROTO_*` of a table's family.
    public enum Family: UInt8, Sendable {
        case inet = 1, ip = 2, ip6 = 10
        public init?(name: String) {
            switch name {
            case "ip": self = .ip
            case "ip6": self = .ip6
            case "inet": self = .inet
            default: return nil
            }
        }
    }

    /// What an element maps to.
    public enum Data: Hashable, Sendable {
        case none
        case goto(String)
        case jump(String)
        case bytes([UInt8])
    }

    /// One set or map element: its key (already laid out, see ``key(_:)``), its data, its comment.
    public struct Element: Hashable, Sendable {
        public var key: [UInt8]
        public var data: Data
        public var comment: String?
        public init(key: [UInt8], data: Data = .none, comment: String? = nil) {
            self.key = key
            self.data = data
            self.comment = comment
        }
    }

    /// A concatenated key (`ipv4_addr . inet_proto . inet_service`): each field in network order,
    /// padded to the 4-byte registers nf_tables keeps them in.
    public static func key(_ fields: [[UInt8]]) -> [UInt8] {
        fields.flatMap { $0 + [UInt8](repeating: 0, count: (4 - $0.count % 4) % 4) }
    }

    /// The header every nf_tables message starts with (`struct nfgenmsg`).
    static func nfgen(family: UInt8, resourceID: UInt16 = 0) -> [UInt8] { [family, 0, UInt8(resourceID >> 8), UInt8(resourceID & 0xFF)] }

    /// `NFT_MSG_NEWSETELEM` (or `DELSETELEM`) for `elements` of `set` in `table`.
    public static func elements(add: Bool, family: Family, table: String, set: String, _ elements: [Element], sequence: UInt32) -> NetlinkMessage {
        let list = elements.map { element -> NetlinkAttribute in
            var attributes: [NetlinkAttribute] = [.nested(ElementAttribute.key, [.bytes(DataAttribute.value, element.key)], flagged: true)]
            switch element.data {
            case .none: break
            case .goto(let chain), .jump(let chain):
                let code: UInt32 = if case .goto = element.data { 0xFFFF_FFFC } else { 0xFFFF_FFFD }   // NFT_GOTO -4, NFT_JUMP -3
                attributes.append(.nested(ElementAttribute.data, [
                    .nested(DataAttribute.verdict, [.be32(VerdictAttribute.code, code), .string(VerdictAttribute.chain, chain)], flagged: true),
                ], flagged: true))
            case .bytes(let value):
                attributes.append(.nested(ElementAttribute.data, [.bytes(DataAttribute.value, value)], flagged: true))
            }
            if let comment = element.comment {
                // libnftnl's user data: type NFTNL_UDATA_SET_ELEM_COMMENT (0), length, the NUL-terminated text.
                let text = Array(comment.utf8) + [0]
                attributes.append(.bytes(ElementAttribute.userData, [0, UInt8(text.count)] + text))
            }
            return .nested(1, attributes, flagged: true)   // NFTA_LIST_ELEM
        }
        return message(add ? newSetElement : deleteSetElement, family: family,
                       [.string(ListAttribute.table, table), .string(ListAttribute.set, set), .nested(ListAttribute.elements, list, flagged: true)],
                       create: add, sequence: sequence)
    }

    /// `NFT_MSG_NEWCHAIN` for a regular chain (as `nft add chain`: no error when it exists), or
    /// `NFT_MSG_DELCHAIN` (the chain must be empty and unused).
    public static func chain(add: Bool, family: Family, table: String, name: String, comment: String? = nil, sequence: UInt32) -> NetlinkMessage {
        var attributes: [NetlinkAttribute] = [.string(ChainAttribute.table, table), .string(ChainAttribute.name, name)]
        if add, let comment {
            let text = Array(comment.utf8) + [0]
            attributes.append(.bytes(ChainAttribute.userData, [0, UInt8(text.count)] + text))   // NFTNL_UDATA_CHAIN_COMMENT
        }
        return message(add ? newChain : deleteChain, family: family, attributes, create: add, sequence: sequence)
    }

    /// `NFT_MSG_DELRULE` naming only the chain: every rule of the chain goes (`nft flush chain`).
    public static func flushChain(family: Family, table: String, name: String, sequence: UInt32) -> NetlinkMessage {
        message(deleteRule, family: family, [.string(RuleAttribute.table, table), .string(RuleAttribute.chain, name)], create: false, sequence: sequence)
    }

    static func message(_ command: UInt16, family: Family, _ attributes: [NetlinkAttribute], create: Bool, sequence: UInt32) -> NetlinkMessage {
        var payload = nfgen(family: family.rawValue)
        for attribute in attributes { attribute.encode(into: &payload) }
        let flags = NetlinkMessage.Flags.request.rawValue | NetlinkMessage.Flags.ack.rawValue | (create ? createFlag : 0)
        return NetlinkMessage(type: subsystem << 8 | command, flags: NetlinkMessage.Flags(rawValue: flags), sequence: sequence, payload: payload)
    }

    /// `operations` wrapped in a batch; the begin and end messages take the sequence numbers
    /// before and after theirs.
    public static func batch(_ operations: [NetlinkMessage], begin: UInt32, end: UInt32) -> [NetlinkMessage] {
        let marker = { (type: UInt16, sequence: UInt32) in
            NetlinkMessage(type: type, flags: .request, sequence: sequence, payload: nfgen(family: 0, resourceID: subsystem))
        }
        return [marker(batchBegin, begin)] + operations + [marker(batchEnd, end)]
    }

    enum ChainAttribute { static let table: UInt16 = 1, name: UInt16 = 3, userData: UInt16 = 12 }
    enum RuleAttribute { static let table: UInt16 = 1, chain: UInt16 = 2 }
    enum ListAttribute { static let table: UInt16 = 1, set: UInt16 = 2, elements: UInt16 = 3 }
    enum ElementAttribute { static let key: UInt16 = 1, data: UInt16 = 2, flags: UInt16 = 3, userData: UInt16 = 6 }
    enum DataAttribute { static let value: UInt16 = 1, verdict: UInt16 = 2 }
    enum VerdictAttribute { static let code: UInt16 = 1, chain: UInt16 = 2 }
}
