/// One nf_tables rule expression (`include/uapi/linux/netfilter/nf_tables.h`, `NFTA_*_`), with the
/// attributes in the order nft 1.0 sends them. Registers: 0 is the verdict, 1 and 2 the first
/// 16-byte registers (what nft uses for single keys).
public enum NFTablesExpression: Hashable, Sendable {
    /// Where a payload load starts.
    public enum PayloadBase: UInt32, Sendable { case link = 0, network = 1, transport = 2 }
    /// `NFT_CMP_*`.
    public enum CompareOperator: UInt32, Sendable { case equal = 0, notEqual = 1 }
    /// `NFT_META_*` keys kube-proxy's rules read.
    public enum MetaKey: UInt32, Sendable { case inputInterfaceName = 6, outputInterfaceName = 7, l4proto = 16 }
    /// A verdict: `NF_DROP`, `NF_ACCEPT`, `NFT_RETURN`, or a jump/goto to a chain.
    public enum Verdict: Hashable, Sendable {
        case drop, accept, `return`, jump(String), goto(String)
        var code: UInt32 {
            switch self {
            case .drop: 0
            case .accept: 1
            case .return: 0xFFFF_FFFB      // -5
            case .jump: 0xFFFF_FFFD        // -3
            case .goto: 0xFFFF_FFFC        // -4
            }
        }
        /// `NFTA_IMMEDIATE_DATA` (or `NFTA_SET_ELEM_DATA`) { `NFTA_DATA_VERDICT` { code, chain } }.
        public var attribute: NetlinkAttribute {
            var inner: [NetlinkAttribute] = [.be32(1, code)]
            switch self {
            case .jump(let chain), .goto(let chain): inner.append(.string(2, chain))
            default: break
            }
            return .nested(2, [.nested(2, inner, flagged: true)], flagged: true)
        }
    }

    case payload(base: PayloadBase, offset: UInt32, length: UInt32, register: UInt32)
    case compare(register: UInt32, op: CompareOperator, value: [UInt8])
    case bitwise(register: UInt32, mask: [UInt8], xor: [UInt8])
    case meta(key: MetaKey, register: UInt32)
    /// `immediate reg 0 <verdict>`.
    case verdict(Verdict)
    /// `immediate reg N <bytes>`.
    case immediate(register: UInt32, value: [UInt8])
    /// A lookup in a set (`setID` for a set created in the same transaction), with a verdict map's
    /// result into register 0 when `verdictMap`; `inverted` matches keys not in the set.
    case lookup(set: String, setID: UInt32?, register: UInt32, verdictMap: Bool, inverted: Bool = false)
    /// A lookup in a data map: the value of the key in `register` goes to `destination`.
    case mapLookup(set: String, setID: UInt32?, register: UInt32, destination: UInt32)
    /// `byteorder reg = hton(reg, size, size)`: a host-order integer to network order (an interval map's key).
    case hostToNetwork(register: UInt32, size: UInt32)
    /// `dynset update`: refreshes (or adds) the key in register `register`.
    case dynsetUpdate(set: String, setID: UInt32?, register: UInt32)
    /// `dnat` (`snat` when not `destination`) to the address (and port) in the registers.
    case nat(destination: Bool, family: UInt8, addressRegister: UInt32, portRegister: UInt32?)
    /// `numgen random mod N`.
    case numgenRandom(modulus: UInt32, register: UInt32)
    /// `fib saddr|daddr type`: the address type of the source (or destination).
    case fibAddressType(source: Bool, register: UInt32)

    var name: String {
        switch self {
        case .payload: "payload"
        case .compare: "cmp"
        case .bitwise: "bitwise"
        case .meta: "meta"
        case .verdict, .immediate: "immediate"
        case .lookup, .mapLookup: "lookup"
        case .hostToNetwork: "byteorder"
        case .dynsetUpdate: "dynset"
        case .nat: "nat"
        case .numgenRandom: "numgen"
        case .fibAddressType: "fib"
        }
    }

    /// `NFTA_EXPR_DATA`'s children.
    var data: [NetlinkAttribute] {
        func value(_ type: UInt16, _ bytes: [UInt8]) -> NetlinkAttribute { .nested(type, [.bytes(1, bytes)], flagged: true) }
        switch self {
        case .payload(let base, let offset, let length, let register):
            return [.be32(1, register), .be32(2, base.rawValue), .be32(3, offset), .be32(4, length)]
        case .compare(let register, let op, let bytes):
            return [.be32(1, register), .be32(2, op.rawValue), value(3, bytes)]
        case .bitwise(let register, let mask, let xor):
            return [.be32(1, register), .be32(2, register), .be32(3, UInt32(mask.count)), value(4, mask), value(5, xor)]
        case .meta(let key, let register):
            return [.be32(2, key.rawValue), .be32(1, register)]
        case .verdict(let verdict):
            return [.be32(1, 0), verdict.attribute]
        case .immediate(let register, let bytes):
            return [.be32(1, register), value(2, bytes)]
        case .lookup(let set, let setID, let register, let verdictMap, let inverted):
            var out: [NetlinkAttribute] = [.be32(2, register)]
            if verdictMap { out.append(.be32(3, 0)) }
            out.append(.string(1, set))
            if let setID { out.append(.be32(4, setID)) }
            if inverted { out.append(.be32(5, 1)) }   // NFT_LOOKUP_F_INV
            return out
        case .mapLookup(let set, let setID, let register, let destination):
            var out: [NetlinkAttribute] = [.be32(2, register), .be32(3, destination), .string(1, set)]
            if let setID { out.append(.be32(4, setID)) }
            return out
        case .hostToNetwork(let register, let size):
            return [.be32(1, register), .be32(2, register), .be32(3, 1), .be32(4, size), .be32(5, size)]   // NFT_BYTEORDER_HTON
        case .dynsetUpdate(let set, let setID, let register):
            var out: [NetlinkAttribute] = [.be32(4, register), .be32(3, 1), .string(1, set)]
            if let setID { out.append(.be32(2, setID)) }
            return out
        case .nat(let destination, let family, let addressRegister, let portRegister):
            var out: [NetlinkAttribute] = [.be32(1, destination ? 1 : 0), .be32(2, UInt32(family)), .be32(3, addressRegister)]
            if let portRegister { out += [.be32(5, portRegister), .be32(7, 2)] }   // NF_NAT_RANGE_PROTO_SPECIFIED
            return out
        case .numgenRandom(let modulus, let register):
            return [.be32(1, register), .be32(2, modulus), .be32(3, 1), .be32(4, 0)]
        case .fibAddressType(let source, let register):
            return [.be32(3, source ? 1 : 2), .be32(2, 3), .be32(1, register)]   // NFTA_FIB_F_SADDR/DADDR, NFT_FIB_RESULT_ADDRTYPE
        }
    }

    /// `NFTA_LIST_ELEM` { `NFTA_EXPR_NAME`, `NFTA_EXPR_DATA` }.
    public var attribute: NetlinkAttribute {
        let data = self.data
        var children: [NetlinkAttribute] = [.string(1, name)]
        if !data.isEmpty { children.append(.nested(2, data, flagged: true)) }
        return .nested(1, children, flagged: true)
    }
}
