import KubeProxyModel
import Netlink

/// A rule's nft text from its expressions: the inverse of ``NFTNetlinkEncoder`` for the statements
/// of kube-proxy's Service and endpoint chains, in the compiler's words. What the expressions do
/// not keep is written as `nft list` writes it: an anonymous address set's ranges sorted, a set of
/// one as its element, a whole address without `/32` (`/128`).
public enum NFTExpressionText {
    /// The contents of an anonymous set or verdict map the batch created (by its set id).
    public typealias AnonymousSet = (isVerdictMap: Bool, elements: [NFTablesNetlink.Element])

    /// The text of a rule of a table of `family` (`ip` or `ip6`).
    /// - Parameter anonymousSet: the contents of the anonymous set with a set id, if the batch has it.
    /// - Throws: ``NFTWireError`` `.unsupported` for expressions outside those forms.
    public static func rule(_ expressions: [NFTablesExpression], comment: String?, family: String,
                            anonymousSet: (UInt32) -> AnonymousSet?) throws -> String {
        let v6 = family == "ip6", width = v6 ? 16 : 4, ipX = v6 ? "ip6" : "ip"
        var words: [String] = [], rest = expressions[...]
        func fail(_ what: String) -> NFTWireError { NFTWireError(code: .unsupported, message: "\(what) in expressions \(expressions)") }
        func not(_ op: NFTablesExpression.CompareOperator) -> [String] { op == .notEqual ? ["!="] : [] }
        while let first = rest.popFirst() {
            if case .verdict(let verdict) = first {
                words.append(NFTElementText.verdict(verdict))
                continue
            }
            guard let next = rest.popFirst() else { throw fail("\(first) last") }
            switch (first, next) {
            case (.payload(.network, let offset, let loaded, 1), _):
                guard let field = field(offset, v6: v6) else { throw fail("payload at \(offset)") }
                let length = Int(loaded)
                switch next {
                case .compare(1, let op, let value) where value.count == length && length <= width:
                    words += [ipX, field] + not(op) + [prefix(value + [UInt8](repeating: 0, count: width - value.count), bits: 8 * value.count)]
                case .bitwise(1, let mask, let xor) where length == width && mask.count == width && xor.allSatisfy({ $0 == 0 }):
                    guard case .compare(1, let op, let value)? = rest.popFirst(), let bits = maskLength(mask), value.count == width else { throw fail("bitwise") }
                    words += [ipX, field] + not(op) + [prefix(value, bits: bits)]
                case .lookup(let set, let id, 1, false, let inverted) where length == width:
                    if let id, let anonymous = anonymousSet(id), !anonymous.isVerdictMap {
                        guard let ranges = NFTElementText.ranges(anonymous.elements, width: width) else { throw fail("interval set") }
                        let list = ranges.count == 1 ? ranges : ["{", ranges.joined(separator: ", "), "}"]
                        words += [ipX, field] + (inverted ? ["!="] : []) + list
                    } else {
                        guard !inverted, !set.hasPrefix("__") else { throw fail("lookup in \(set)") }
                        words += [ipX, field, "@\(set)"]
                    }
                case .dynsetUpdate(let set, _, 1) where field == "saddr" && length == width:
                    words += ["update", "@\(set)", "{", ipX, "saddr", "}"]
                default: throw fail("payload then \(next)")
                }
            case (.meta(.l4proto, 1), .compare(1, .equal, let value)) where value.count == 1:
                words += ["meta", "l4proto", NFTElementText.protocolName(value[0])]
            case (.meta(let key, 1), .compare(1, let op, let value)) where key != .l4proto:
                var name = value
                let exact = name.count == 16 && name.last == 0
                while exact, name.last == 0 { name.removeLast() }
                let quoted = "\"" + String(decoding: name, as: UTF8.self) + (exact ? "" : "*") + "\""
                words += [key == .inputInterfaceName ? "iifname" : "oifname"] + not(op) + [quoted]
            case (.fibAddressType(let source, 1), .compare(1, .equal, [2, 0, 0, 0])):
                words += ["fib", source ? "saddr" : "daddr", "type", "local"]
            case (.immediate(1, let address), .immediate(2, let port)) where port.count == 2:
                guard case .nat(true, let natFamily, 1, let portRegister)? = rest.popFirst(), natFamily == (v6 ? 10 : 2), portRegister == 2,
                      address.count == width, let ip = IPAddress(bytes: address) else { throw fail("nat") }
                words += ["dnat", "to", ip.joinHostPort(Int(port[0]) << 8 | Int(port[1]))]
            case (.numgenRandom(let modulus, 1), .lookup(_, let id?, 1, true, false)):
                guard let map = anonymousSet(id), map.isVerdictMap else { throw fail("numgen map \(id)") }
                let entries = try map.elements.map { element -> (UInt32, String) in
                    guard case .verdict(let verdict) = element.data, let key: UInt32 = NetlinkBytes.readHost(element.key, at: 0), element.key.count == 4 else {
                        throw fail("numgen map element")
                    }
                    return (key, "\(key) : \(NFTElementText.verdict(verdict))")
                }.sorted { $0.0 < $1.0 }
                guard entries.map(\.0) == Array(0..<modulus) else { throw fail("numgen map keys other than 0..<\(modulus)") }
                words += ["numgen", "random", "mod", "\(modulus)", "vmap", "{", entries.map(\.1).joined(separator: " , "), "}"]
            case (let first, let next):
                throw fail("\(first) then \(next)")
            }
        }
        if let comment { words += ["comment", "\"\(comment)\""] }
        return words.joined(separator: " ")
    }

    /// `saddr` or `daddr` at the network header's `offset`.
    static func field(_ offset: UInt32, v6: Bool) -> String? {
        switch offset {
        case v6 ? 8 : 12: "saddr"
        case v6 ? 24 : 16: "daddr"
        default: nil
        }
    }

    /// `address/bits`, or the address alone when the prefix is all of it.
    static func prefix(_ bytes: [UInt8], bits: Int) -> String {
        let ip = IPAddress(bytes: bytes)!
        return bits == bytes.count * 8 ? ip.description : CIDR(address: ip, prefixLength: bits).description
    }

    /// The prefix length of a contiguous mask.
    static func maskLength(_ mask: [UInt8]) -> Int? {
        var bits: [Bool] = []
        for byte in mask { for i in 0..<8 { bits.append(byte & (UInt8(0x80) >> i) != 0) } }
        let ones = bits.prefix { $0 }.count
        return bits.dropFirst(ones).contains(true) ? nil : ones
    }
}
