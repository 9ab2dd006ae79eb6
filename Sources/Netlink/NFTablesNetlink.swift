/// nf_tables over netlink (`include/uapi/linux/netfilter/nf_tables.h`, `nfnetlink.h`): the
/// messages of a transaction — so far set and map elements, regular chains, chain flushes. A transaction is a batch —
/// `NFNL_MSG_BATCH_BEGIN`, the operations, `NFNL_MSG_BATCH_END` — that the kernel commits whole
/// or not at all, sent on a `NETLINK_NETFILTER` socket.
public enum NFTablesNetlink {
    /// `NETLINK_NETFILTER`.
    public static let netlinkProtocol: Int32 = 12
    static let subsystem: UInt16 = 10           // NFNL_SUBSYS_NFTABLES
    static let batchBegin: UInt16 = 0x10, batchEnd: UInt16 = 0x11
    static let newChain: UInt16 = 3, deleteChain: UInt16 = 5, newRule: UInt16 = 6, deleteRule: UInt16 = 8
    static let newSet: UInt16 = 9, deleteSet: UInt16 = 11, newSetElement: UInt16 = 12, deleteSetElement: UInt16 = 14
    /// `NLM_F_CREATE`: adding an element that exists is not an error (as `nft add element`).
    static let createFlag: UInt16 = 0x400
    /// `NLM_F_APPEND`: a new rule goes after the chain's last one (without it, before the first).
    static let appendFlag: UInt16 = 0x800

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
        case verdict(NFTablesExpression.Verdict)
        case bytes([UInt8])
        public static func goto(_ chain: String) -> Data { .verdict(.goto(chain)) }
        public static func jump(_ chain: String) -> Data { .verdict(.jump(chain)) }
    }

    /// One set or map element: its key (already laid out, see ``key(_:)``), its data, its comment;
    /// in an interval set, `intervalEnd` marks the first key after a range.
    public struct Element: Hashable, Sendable {
        public var key: [UInt8]
        public var data: Data
        public var comment: String?
        public var intervalEnd: Bool
        public init(key: [UInt8], data: Data = .none, comment: String? = nil, intervalEnd: Bool = false) {
            self.key = key
            self.data = data
            self.comment = comment
            self.intervalEnd = intervalEnd
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
    public static func elements(add: Bool, family: Family, table: String, set: String, setID: UInt32? = nil, _ elements: [Element],
                                sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        let list = elements.map { element -> NetlinkAttribute in
            var attributes: [NetlinkAttribute] = element.intervalEnd ? [.be32(ElementAttribute.flags, 1)] : []   // NFT_SET_ELEM_INTERVAL_END
            attributes.append(.nested(ElementAttribute.key, [.bytes(DataAttribute.value, element.key)], flagged: true))
            switch element.data {
            case .none: break
            case .verdict(let verdict):
                attributes.append(verdict.attribute)
            case .bytes(let value):
                attributes.append(.nested(ElementAttribute.data, [.bytes(DataAttribute.value, value)], flagged: true))
            }
            if let comment = element.comment { attributes.append(.bytes(ElementAttribute.userData, userDataText(comment))) }
            return .nested(1, attributes, flagged: true)   // NFTA_LIST_ELEM
        }
        var attributes: [NetlinkAttribute] = [.string(ListAttribute.table, table), .string(ListAttribute.set, set)]
        if let setID { attributes.append(.be32(ListAttribute.setID, setID)) }
        attributes.append(.nested(ListAttribute.elements, list, flagged: true))
        return message(add ? newSetElement : deleteSetElement, family: family, attributes, flags: add ? createFlag : 0, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_NEWCHAIN` for a regular chain (as `nft add chain`: no error when it exists), or
    /// `NFT_MSG_DELCHAIN` (the chain must be empty and unused).
    public static func chain(add: Bool, family: Family, table: String, name: String, comment: String? = nil, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        var attributes: [NetlinkAttribute] = [.string(ChainAttribute.table, table), .string(ChainAttribute.name, name)]
        if add, let comment { attributes.append(.bytes(ChainAttribute.userData, userDataText(comment))) }
        return message(add ? newChain : deleteChain, family: family, attributes, flags: add ? createFlag : 0, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_DELRULE` naming only the chain: every rule of the chain goes (`nft flush chain`).
    public static func flushChain(family: Family, table: String, name: String, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        message(deleteRule, family: family, [.string(RuleAttribute.table, table), .string(RuleAttribute.chain, name)], flags: 0, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_NEWRULE` appended to `chain` (as `nft add rule`); the comment is libnftnl's rule
    /// user data (`NFTNL_UDATA_RULE_COMMENT`).
    public static func rule(family: Family, table: String, chain: String, _ expressions: [NFTablesExpression], comment: String? = nil,
                            sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        var attributes: [NetlinkAttribute] = [.string(RuleAttribute.table, table), .string(RuleAttribute.chain, chain),
                                              .nested(RuleAttribute.expressions, expressions.map(\.attribute), flagged: true)]
        if let comment { attributes.append(.bytes(RuleAttribute.userData, userDataText(comment))) }
        return message(newRule, family: family, attributes, flags: createFlag | appendFlag, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_NEWSET` for the anonymous, constant verdict map of `numgen random mod N vmap { … }`:
    /// integer keys (host order), `size` elements, referred to by `id` until the kernel names it `__mapN`.
    public static func anonymousVerdictMap(family: Family, table: String, id: UInt32, size: UInt32, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        // nft's set user data for it: key byte order host, data byte order unset, data typeof, no data interval.
        let userData: [UInt8] = [0, 4, 1, 0, 0, 0, 1, 4, 0, 0, 0, 0, 4, 8, 0, 4, 1, 0, 0, 0, 1, 0, 6, 4, 0, 0, 0, 0]
        let attributes: [NetlinkAttribute] = [
            .string(SetAttribute.table, table), .string(SetAttribute.name, anonymousMapName),
            .be32(SetAttribute.flags, 0xB),                 // NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP
            .be32(SetAttribute.keyType, 4), .be32(SetAttribute.keyLength, 4),   // nft's integer type
            .be32(SetAttribute.dataType, 0xFFFF_FF00), .be32(SetAttribute.dataLength, 0),   // NFT_DATA_VERDICT
            .be32(SetAttribute.id, id), .nested(SetAttribute.description, [.be32(1, size)], flagged: true),
            .bytes(SetAttribute.userData, userData),
        ]
        return message(newSet, family: family, attributes, flags: createFlag, sequence: sequence, ack: ack)
    }

    /// The name nft gives anonymous verdict maps; the kernel replaces `%d` with a free number.
    public static let anonymousMapName = "__map%d"
    /// The name nft gives anonymous sets.
    public static let anonymousSetName = "__set%d"

    /// `NFT_MSG_NEWSET` for the anonymous, constant interval set of source addresses in
    /// `ip saddr != { 198.18.5.0/24, … }` (a firewall chain): `size` elements, interval ends included.
    public static func anonymousSourceIntervals(family: Family, table: String, id: UInt32, size: UInt32, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        let v6 = family == .ip6
        // nft's user data: key byte order big endian, merge elements, typeof `ip saddr` / `ip6 saddr`.
        let userData: [UInt8] = [0, 4, 2, 0, 0, 0, 2, 4, 1, 0, 0, 0, 3, 20, 0, 4, 7, 0, 0, 0, 1, 12, 0, 4, v6 ? 13 : 12, 0, 0, 0, 1, 4, v6 ? 8 : 11, 0, 0, 0]
        let attributes: [NetlinkAttribute] = [
            .string(SetAttribute.table, table), .string(SetAttribute.name, anonymousSetName),
            .be32(SetAttribute.flags, 0x7),                 // NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL
            .be32(SetAttribute.keyType, v6 ? 8 : 7), .be32(SetAttribute.keyLength, v6 ? 16 : 4),
            .be32(SetAttribute.id, id), .nested(SetAttribute.description, [.be32(1, size)], flagged: true),
            .bytes(SetAttribute.userData, userData),
        ]
        return message(newSet, family: family, attributes, flags: createFlag, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_NEWSET` for a named set of addresses with `flags dynamic,timeout` and a default
    /// timeout (kube-proxy's affinity sets), as `nft add set` sends it: no error when it exists.
    public static func timeoutSet(family: Family, table: String, name: String, timeoutMilliseconds: UInt64, id: UInt32,
                                  sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        let v6 = family == .ip6
        var timeout: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { timeout.append(UInt8(timeoutMilliseconds >> UInt64(shift) & 0xFF)) }
        let attributes: [NetlinkAttribute] = [
            .string(SetAttribute.table, table), .string(SetAttribute.name, name),
            .be32(SetAttribute.flags, 0x30),                // NFT_SET_TIMEOUT | NFT_SET_EVAL
            .be32(SetAttribute.keyType, v6 ? 8 : 7), .be32(SetAttribute.keyLength, v6 ? 16 : 4),   // ipv6_addr / ipv4_addr
            .be32(SetAttribute.id, id), .bytes(SetAttribute.timeout, timeout),
            .bytes(SetAttribute.userData, [0, 4, 2, 0, 0, 0]),   // key byte order: big endian
        ]
        return message(newSet, family: family, attributes, flags: createFlag, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_NEWSET` for an endpoint map, as nft 1.0 sends
    /// `typeof numgen random mod N : ip daddr . tcp dport ; flags interval`: integer keys (network
    /// order, ranges), `address . port` data, and the `typeof` user data nft lists it by.
    /// - Parameter transport: nft's protocol id of the data's port (tcp 8, udp 6, sctp 10).
    public static func endpointMap(family: Family, table: String, name: String, id: UInt32, modulus: UInt32, transport: UInt32,
                                   sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        let v6 = family == .ip6
        func tlv(_ type: UInt8, _ value: [UInt8]) -> [UInt8] { [type, UInt8(value.count)] + value }
        func u32(_ type: UInt8, _ value: UInt32) -> [UInt8] { tlv(type, NetlinkBytes.host(value)) }
        // libnftnl's set user data: key byte order (host), data byte order, then each typeof
        // expression as { expression id, { its fields } } (numgen 23: random, modulus, offset;
        // concat 13 of payloads 7: protocol description, field).
        let payload = { (description: UInt32, field: UInt32) in u32(0, 7) + tlv(1, u32(0, description) + u32(1, field)) }
        let userData = u32(0, 1) + u32(1, 0)
            + tlv(3, u32(0, 23) + tlv(1, u32(0, 1) + u32(1, modulus) + u32(2, 0)))
            + tlv(4, u32(0, 13) + tlv(1, tlv(0, payload(v6 ? 13 : 12, v6 ? 9 : 12)) + tlv(1, payload(transport, 2))))
            + u32(6, 0)
        let attributes: [NetlinkAttribute] = [
            .string(SetAttribute.table, table), .string(SetAttribute.name, name),
            .be32(SetAttribute.flags, 0x0C),                                   // NFT_SET_INTERVAL | NFT_SET_MAP
            .be32(SetAttribute.keyType, 4), .be32(SetAttribute.keyLength, 4),  // integer
            .be32(SetAttribute.dataType, (v6 ? 8 : 7) << 6 | 13),              // ipv4_addr/ipv6_addr . inet_service
            .be32(SetAttribute.dataLength, v6 ? 20 : 8),
            .be32(SetAttribute.id, id), .bytes(SetAttribute.userData, userData),
        ]
        return message(newSet, family: family, attributes, flags: createFlag, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_DELSETELEM` naming only the set: every element goes (`nft flush set` / `flush map`).
    public static func flushSet(family: Family, table: String, name: String, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        message(deleteSetElement, family: family, [.string(ListAttribute.table, table), .string(ListAttribute.set, name)], flags: 0, sequence: sequence, ack: ack)
    }

    /// `NFT_MSG_DELSET` (the set must be unused).
    public static func deleteSet(family: Family, table: String, name: String, sequence: UInt32, ack: Bool = true) -> NetlinkMessage {
        message(deleteSet, family: family, [.string(SetAttribute.table, table), .string(SetAttribute.name, name)], flags: 0, sequence: sequence, ack: ack)
    }

    /// libnftnl's comment user data: type 0, length, the NUL-terminated text.
    static func userDataText(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8) + [0]
        return [0, UInt8(bytes.count)] + bytes
    }

    static func message(_ command: UInt16, family: Family, _ attributes: [NetlinkAttribute], flags extra: UInt16, sequence: UInt32, ack: Bool) -> NetlinkMessage {
        var payload = nfgen(family: family.rawValue)
        for attribute in attributes { attribute.encode(into: &payload) }
        let flags = NetlinkMessage.Flags.request.rawValue | (ack ? NetlinkMessage.Flags.ack.rawValue : 0) | extra
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
    enum RuleAttribute { static let table: UInt16 = 1, chain: UInt16 = 2, expressions: UInt16 = 4, userData: UInt16 = 7 }
    enum SetAttribute {
        static let table: UInt16 = 1, name: UInt16 = 2, flags: UInt16 = 3, keyType: UInt16 = 4, keyLength: UInt16 = 5
        static let dataType: UInt16 = 6, dataLength: UInt16 = 7, description: UInt16 = 9, id: UInt16 = 10, timeout: UInt16 = 11, userData: UInt16 = 13
    }
    enum ListAttribute { static let table: UInt16 = 1, set: UInt16 = 2, elements: UInt16 = 3, setID: UInt16 = 4 }
    enum ElementAttribute { static let key: UInt16 = 1, data: UInt16 = 2, flags: UInt16 = 3, userData: UInt16 = 6 }
    enum DataAttribute { static let value: UInt16 = 1 }
}
