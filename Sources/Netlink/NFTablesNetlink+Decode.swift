/// Reading nf_tables requests back, as the kernel does, for fakes that stand in for it: the
/// operations ``NFTablesNetlink``'s builders write, and the dumps the writer asks for. What the
/// builders never write (base chains, rule handles and positions, other attributes' forms) throws
/// ``NetlinkError`` with errno EOPNOTSUPP; a missing attribute, EINVAL.
extension NFTablesNetlink {
    /// A set or map as `NFT_MSG_NEWSET` declares it.
    public struct SetDeclaration: Hashable, Sendable {
        public var table: String
        public var name: String
        /// `NFT_SET_*`: anonymous 0x1, constant 0x2, interval 0x4, map 0x8, timeout 0x10, eval 0x20.
        public var flags: UInt32
        public var keyType: UInt32, keyLength: UInt32
        /// `NFT_DATA_VERDICT` (0xFFFF_FF00) for a verdict map.
        public var dataType: UInt32?
        /// The id that binds it in its batch (`NFTA_SET_ID`).
        public var id: UInt32?
        public var timeoutMilliseconds: UInt64?
        /// The element count declared (`NFTA_SET_DESC_SIZE`).
        public var size: UInt32?
        public var isAnonymous: Bool { flags & 0x1 != 0 }
        public var isMap: Bool { flags & 0x8 != 0 }
    }

    /// One request of a batch.
    public enum Operation: Hashable, Sendable {
        case addChain(table: String, name: String, comment: String?)
        case deleteChain(table: String, name: String)
        /// `NFT_MSG_DELRULE` naming only the chain: every rule goes.
        case flushChain(table: String, name: String)
        /// `appended`: `NLM_F_APPEND` (without it, the rule goes first).
        case addRule(table: String, chain: String, expressions: [NFTablesExpression], comment: String?, appended: Bool)
        case addSet(SetDeclaration)
        case deleteSet(table: String, name: String)
        case elements(add: Bool, table: String, set: String, setID: UInt32?, [Element])

        public var table: String {
            switch self {
            case .addChain(let t, _, _), .deleteChain(let t, _), .flushChain(let t, _), .addRule(let t, _, _, _, _), .deleteSet(let t, _),
                 .elements(_, let t, _, _, _): t
            case .addSet(let set): set.table
            }
        }
    }

    /// A dump request: a table's (or one chain's) rules, or one set's elements.
    public enum DumpRequest: Hashable, Sendable {
        case rules(table: String, chain: String?)
        case elements(table: String, set: String)
    }

    /// Whether `message` is nf_tables' `NFNL_MSG_BATCH_BEGIN` (or, when not `begin`, `_END`).
    public static func isBatchMarker(_ message: NetlinkMessage, begin: Bool) -> Bool {
        message.type == (begin ? batchBegin : batchEnd) && message.payload.count >= 4
            && message.payload[2] == UInt8(subsystem >> 8) && message.payload[3] == UInt8(subsystem & 0xFF)
    }

    /// The family and operation of a batch's request.
    public static func operation(in message: NetlinkMessage) throws -> (family: Family, operation: Operation) {
        let (family, a) = try header(message)
        func string(_ type: UInt16) throws -> String {
            guard let value = a.first(type)?.string else { throw invalid("attribute \(type) missing") }
            return value
        }
        switch message.type & 0xFF {
        case newChain, deleteChain:
            guard a.first(4) == nil, a.first(7) == nil else { throw unsupported("base chain (hook, type)") }
            let (table, name) = (try string(ChainAttribute.table), try string(ChainAttribute.name))
            guard message.type & 0xFF == newChain else { return (family, .deleteChain(table: table, name: name)) }
            return (family, .addChain(table: table, name: name, comment: try a.first(ChainAttribute.userData).flatMap { try userDataComment($0.payload) }))
        case newRule, deleteRule:
            guard a.first(3) == nil, a.first(6) == nil else { throw unsupported("rule handle or position") }
            let (table, chain) = (try string(RuleAttribute.table), try string(RuleAttribute.chain))
            guard message.type & 0xFF == newRule else { return (family, .flushChain(table: table, name: chain)) }
            let expressions = try a.first(RuleAttribute.expressions)?.children().map(NFTablesExpression.init(attribute:)) ?? []
            let comment = try a.first(RuleAttribute.userData).flatMap { try userDataComment($0.payload) }
            return (family, .addRule(table: table, chain: chain, expressions: expressions, comment: comment,
                                     appended: message.flags.rawValue & appendFlag != 0))
        case newSet:
            return (family, .addSet(try setDeclaration(a)))
        case deleteSet:
            return (family, .deleteSet(table: try string(SetAttribute.table), name: try string(SetAttribute.name)))
        case newSetElement, deleteSetElement:
            let elements = try (a.first(ListAttribute.elements)?.children() ?? []).map { try element($0.children()) }
            return (family, .elements(add: message.type & 0xFF == newSetElement, table: try string(ListAttribute.table), set: try string(ListAttribute.set),
                                      setID: be32(a.first(ListAttribute.setID)), elements))
        default:
            throw unsupported("nf_tables message \(message.type & 0xFF)")
        }
    }

    /// The family and object of a dump request (``dumpRules(family:table:chain:sequence:)``,
    /// ``dumpElements(family:table:set:sequence:)``).
    public static func dumpRequest(in message: NetlinkMessage) throws -> (family: Family, request: DumpRequest) {
        let (family, a) = try header(message)
        guard message.flags.contains(.dump), let table = a.first(1)?.string else { throw unsupported("request \(message.type & 0xFF)") }
        switch message.type & 0xFF {
        case getRule: return (family, .rules(table: table, chain: a.first(RuleAttribute.chain)?.string))
        case getSetElement:
            guard let set = a.first(ListAttribute.set)?.string else { throw invalid("no set named") }
            return (family, .elements(table: table, set: set))
        default: throw unsupported("dump \(message.type & 0xFF)")
        }
    }

    /// A reply to a rule dump (table, chain and expressions only: no handle).
    public static func ruleReply(family: Family, table: String, chain: String, _ expressions: [NFTablesExpression], sequence: UInt32) -> NetlinkMessage {
        var reply = rule(family: family, table: table, chain: chain, expressions, sequence: sequence, ack: false)
        reply.flags = .multi
        return reply
    }
}
