/// Expressions read back from a rule's `NFTA_RULE_EXPRESSIONS`, as the kernel parses them: the
/// forms ``NFTablesExpression`` models. Other expressions, and modes of these the builders never
/// write, throw ``NetlinkError`` with errno EOPNOTSUPP; a missing attribute, EINVAL.
extension NFTablesExpression {
    /// The expression of one `NFTA_LIST_ELEM` { `NFTA_EXPR_NAME`, `NFTA_EXPR_DATA` }.
    public init(attribute: NetlinkAttribute) throws {
        let children = try attribute.children()
        guard let name = children.first(1)?.string else { throw NFTablesNetlink.invalid("expression without a name") }
        let data = try children.first(2)?.children() ?? []
        func u32(_ type: UInt16) throws -> UInt32 {
            guard let value = NFTablesNetlink.be32(data.first(type)) else { throw NFTablesNetlink.invalid("\(name): attribute \(type) missing") }
            return value
        }
        func optional(_ type: UInt16) -> UInt32? { NFTablesNetlink.be32(data.first(type)) }
        func bytes(_ type: UInt16) throws -> [UInt8] {
            guard let value = try data.first(type)?.children().first(1)?.payload else { throw NFTablesNetlink.invalid("\(name): value \(type) missing") }
            return value
        }
        func unsupported(_ what: String) -> NetlinkError { NFTablesNetlink.unsupported("\(name): \(what)") }
        switch name {
        case "payload":
            guard let base = PayloadBase(rawValue: try u32(2)) else { throw unsupported("base") }
            self = .payload(base: base, offset: try u32(3), length: try u32(4), register: try u32(1))
        case "cmp":
            guard let op = CompareOperator(rawValue: try u32(2)) else { throw unsupported("operator") }
            self = .compare(register: try u32(1), op: op, value: try bytes(3))
        case "bitwise":
            let (mask, xor) = (try bytes(4), try bytes(5))
            guard try u32(1) == u32(2), try u32(3) == UInt32(mask.count), xor.count == mask.count, optional(6) ?? 0 == 0 else {
                throw unsupported("other than a mask in place")
            }
            self = .bitwise(register: try u32(1), mask: mask, xor: xor)
        case "meta":
            guard let key = MetaKey(rawValue: try u32(2)), data.first(3) == nil else { throw unsupported("key or a set") }
            self = .meta(key: key, register: try u32(1))
        case "immediate":
            let register = try u32(1)
            guard register == 0 else { self = .immediate(register: register, value: try bytes(2)); return }
            guard let verdict = try data.first(2)?.children().first(2) else { throw NFTablesNetlink.invalid("immediate: verdict missing") }
            self = .verdict(try Verdict(attribute: verdict))
        case "lookup":
            guard let set = data.first(1)?.string else { throw NFTablesNetlink.invalid("lookup: set missing") }
            let register = optional(3)
            guard register == nil || register == 0 else { throw unsupported("data register other than the verdict") }
            self = .lookup(set: set, setID: optional(4), register: try u32(2), verdictMap: register != nil, inverted: (optional(5) ?? 0) & 1 != 0)
        case "dynset":
            guard let set = data.first(1)?.string, try u32(3) == 1, data.first(5) == nil else { throw unsupported("other than an update of a key") }
            self = .dynsetUpdate(set: set, setID: optional(2), register: try u32(4))
        case "nat":
            guard optional(4) == nil, optional(6) == nil, let family = UInt8(exactly: try u32(2)) else { throw unsupported("ranges") }
            let port = optional(5)
            guard (optional(7) ?? 0) == (port == nil ? 0 : 2) else { throw unsupported("flags") }
            self = .nat(destination: try u32(1) == 1, family: family, addressRegister: try u32(3), portRegister: port)
        case "numgen":
            guard try u32(3) == 1, optional(4) ?? 0 == 0 else { throw unsupported("other than random from 0") }
            self = .numgenRandom(modulus: try u32(2), register: try u32(1))
        case "fib":
            let flags = try u32(3)
            guard try u32(2) == 3, flags == 1 || flags == 2 else { throw unsupported("other than the address type of saddr or daddr") }
            self = .fibAddressType(source: flags == 1, register: try u32(1))
        default:
            throw unsupported("expression")
        }
    }
}

extension NFTablesExpression.Verdict {
    /// The verdict of an `NFTA_DATA_VERDICT` { `NFTA_VERDICT_CODE`, `NFTA_VERDICT_CHAIN` }.
    public init(attribute: NetlinkAttribute) throws {
        let children = try attribute.children()
        guard let code = NFTablesNetlink.be32(children.first(1)) else { throw NFTablesNetlink.invalid("verdict without a code") }
        let chain = children.first(2)?.string
        switch (code, chain) {
        case (0, nil): self = .drop
        case (1, nil): self = .accept
        case (0xFFFF_FFFB, nil): self = .return
        case (0xFFFF_FFFD, let chain?): self = .jump(chain)
        case (0xFFFF_FFFC, let chain?): self = .goto(chain)
        default: throw NFTablesNetlink.invalid("verdict \(code)" + (chain.map { " to \($0)" } ?? ""))
        }
    }
}
