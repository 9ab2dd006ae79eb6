import KubeProxyModel
import Netlink

/// A rule of kube-proxy's nftables table, read from the nft text the compiler writes and turned
/// into the expressions nft 1.0 would send for it (`nft --debug=netlink` shows them).
///
/// Only the statements kube-proxy's Service and endpoint chains use are understood; anything else
/// throws ``NFTWireError`` with code `.unsupported`, and the caller hands the transaction to `nft`.
struct NFTRuleText {
    /// The expressions, with the anonymous verdict map (if any) still to be created.
    var expressions: [NFTablesExpression] = []
    /// The anonymous set the rule carries, if any: its lookup is in ``expressions`` with no set id yet.
    var anonymousSet: AnonymousSet?

    /// `numgen random mod N vmap { 0 : goto a , … }` or `ip saddr != { 198.18.5.0/24, … }`.
    struct AnonymousSet {
        /// A verdict map keyed 0..N-1, else an interval set of addresses.
        var isVerdictMap: Bool
        var elements: [NFTablesNetlink.Element]
        var name: String { isVerdictMap ? NFTablesNetlink.anonymousMapName : NFTablesNetlink.anonymousSetName }
    }
    var comment: String?

    /// Reads `text` for a table of `family` (`ip` or `ip6`); `setIDs` names the sets created
    /// earlier in the same transaction.
    init(_ text: String, family: String, setIDs: [String: UInt32]) throws {
        var tokens = Tokens(text)
        let v6 = family == "ip6"
        while let token = tokens.next() {
            switch token {
            case "ip", "ip6":
                guard (token == "ip6") == v6 else { throw tokens.unsupported("\(token) in an \(family) table") }
                try address(&tokens, v6: v6, setIDs: setIDs)
            case "iifname", "oifname":
                let negated = tokens.take("!=")
                guard let quoted = tokens.next(), quoted.hasPrefix("\""), quoted.hasSuffix("\""), quoted.count >= 2 else { throw tokens.unsupported("interface name") }
                let name = String(quoted.dropFirst().dropLast())
                var bytes = Array(name.utf8)
                if bytes.last == UInt8(ascii: "*") { bytes.removeLast() } else { bytes += [UInt8](repeating: 0, count: max(0, 16 - bytes.count)) }
                expressions.append(.meta(key: token == "iifname" ? .inputInterfaceName : .outputInterfaceName, register: 1))
                expressions.append(.compare(register: 1, op: negated ? .notEqual : .equal, value: bytes))
            case "fib":
                guard let field = tokens.next(), field == "saddr" || field == "daddr", tokens.take("type"), tokens.take("local") else {
                    throw tokens.unsupported("fib")
                }
                expressions.append(.fibAddressType(source: field == "saddr", register: 1))
                expressions.append(.compare(register: 1, op: .equal, value: [2, 0, 0, 0]))   // RTN_LOCAL, host order
            case "meta":
                guard tokens.take("l4proto"), let name = tokens.next(), let number = Self.protocolNumber(name) else { throw tokens.unsupported("meta") }
                expressions.append(.meta(key: .l4proto, register: 1))
                expressions.append(.compare(register: 1, op: .equal, value: [number]))
            case "update":
                guard let set = tokens.next(), set.hasPrefix("@"), tokens.take("{"), tokens.take(v6 ? "ip6" : "ip"), tokens.take("saddr"), tokens.take("}") else {
                    throw tokens.unsupported("update")
                }
                let name = String(set.dropFirst())
                expressions.append(Self.addressLoad(source: true, v6: v6, length: v6 ? 16 : 4))
                expressions.append(.dynsetUpdate(set: name, setID: setIDs[name], register: 1))
            case "dnat":
                if tokens.take(v6 ? "ip6" : "ip") {
                    // dnat ip to numgen random mod N map @endpoints: the map's `address . port` into registers 1 and the next.
                    guard tokens.take("to"), tokens.take("numgen"), tokens.take("random"), tokens.take("mod"),
                          let modulus = tokens.next().flatMap({ UInt32($0) }), tokens.take("map"),
                          let set = tokens.next(), set.hasPrefix("@") else { throw tokens.unsupported("dnat to a map") }
                    let name = String(set.dropFirst())
                    expressions.append(.numgenRandom(modulus: modulus, register: 1))
                    expressions.append(.hostToNetwork(register: 1, size: 4))
                    expressions.append(.mapLookup(set: name, setID: setIDs[name], register: 1, destination: 1))
                    expressions.append(.nat(destination: true, family: v6 ? 10 : 2, addressRegister: 1, portRegister: v6 ? 2 : 9))
                    continue
                }
                guard tokens.take("to"), let target = tokens.next(), let (ip, port) = Self.hostPort(target), (ip.family == .ipv6) == v6 else {
                    throw tokens.unsupported("dnat")
                }
                expressions.append(.immediate(register: 1, value: ip.bytes))
                expressions.append(.immediate(register: 2, value: [UInt8(port >> 8), UInt8(port & 0xFF)]))
                expressions.append(.nat(destination: true, family: v6 ? 10 : 2, addressRegister: 1, portRegister: 2))
            case "numgen":
                guard tokens.take("random"), tokens.take("mod"), let modulus = tokens.next().flatMap({ UInt32($0) }), tokens.take("vmap"), tokens.take("{") else {
                    throw tokens.unsupported("numgen")
                }
                var entries: [NFTablesExpression.Verdict] = []
                repeat {
                    guard tokens.next() == String(entries.count), tokens.take(":") else { throw tokens.unsupported("numgen map keys other than 0..N-1 in order") }
                    entries.append(try verdict(&tokens))
                } while tokens.take(",")
                guard tokens.take("}"), entries.count == modulus, anonymousSet == nil else {
                    throw tokens.unsupported("numgen map of \(entries.count) for mod \(modulus)")
                }
                let set = AnonymousSet(isVerdictMap: true, elements: entries.enumerated().map { key, verdict in
                    NFTablesNetlink.Element(key: NetlinkBytes.host(UInt32(key)), data: .verdict(verdict))   // numgen's integers: host order
                })
                expressions.append(.numgenRandom(modulus: modulus, register: 1))
                expressions.append(.lookup(set: set.name, setID: nil, register: 1, verdictMap: true))
                anonymousSet = set
            case "jump", "goto", "drop", "accept", "return":
                tokens.putBack()
                expressions.append(.verdict(try verdict(&tokens)))
            case "comment":
                guard let quoted = tokens.next(), quoted.hasPrefix("\""), quoted.hasSuffix("\""), quoted.count >= 2, tokens.isAtEnd else {
                    throw tokens.unsupported("comment")
                }
                comment = String(quoted.dropFirst().dropLast())
            default:
                throw tokens.unsupported("statement \(token)")
            }
        }
    }

    private func verdict(_ tokens: inout Tokens) throws -> NFTablesExpression.Verdict {
        switch tokens.next() {
        case "drop": return .drop
        case "accept": return .accept
        case "return": return .return
        case "jump": if let chain = tokens.next() { return .jump(chain) }
        case "goto": if let chain = tokens.next() { return .goto(chain) }
        default: break
        }
        throw tokens.unsupported("verdict")
    }

    static func protocolNumber(_ name: String) -> UInt8? {
        switch name {
        case "tcp": 6
        case "udp": 17
        case "sctp": 132
        default: nil
        }
    }

    /// `198.18.1.5:8080` or `[2001:2::5]:53`.
    static func hostPort(_ text: String) -> (IPAddress, UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return IPAddress(sloppy: host).map { ($0, port) }
    }
}
