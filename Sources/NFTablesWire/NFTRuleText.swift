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
    /// `numgen random mod N vmap { 0 : goto a , … }`: the map's entries, in key order.
    var verdictMap: [NFTablesExpression.Verdict]?
    /// `ip saddr != { 198.18.5.0/24, … }`: the anonymous interval set's elements (its lookup is
    /// in ``expressions`` with no set id yet).
    var sourceIntervals: [NFTablesNetlink.Element]?
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
                guard tokens.take("}"), entries.count == modulus else { throw tokens.unsupported("numgen map of \(entries.count) for mod \(modulus)") }
                expressions.append(.numgenRandom(modulus: modulus, register: 1))
                verdictMap = entries
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

    /// `ip saddr|daddr [!=] <address>|<cidr>|@set`.
    private mutating func address(_ tokens: inout Tokens, v6: Bool, setIDs: [String: UInt32]) throws {
        guard let field = tokens.next(), field == "saddr" || field == "daddr" else { throw tokens.unsupported("address field") }
        let negated = tokens.take("!=")
        guard let value = tokens.next() else { throw tokens.unsupported("address value") }
        let width = v6 ? 16 : 4
        if value == "{" {
            guard field == "saddr", sourceIntervals == nil else { throw tokens.unsupported("address set of \(field)") }
            var items: [String] = [], ranges: [(first: [UInt8], last: [UInt8])] = []
            repeat {
                guard let item = tokens.next(), let range = Self.range(item, width: width) else { throw tokens.unsupported("address set") }
                items.append(item)
                ranges.append(range)
            } while tokens.take(",")
            guard tokens.take("}") else { throw tokens.unsupported("address set") }
            // A set of one is no set: nft compares with its element.
            if items.count == 1 { return try compare(items[0], field: field, negated: negated, v6: v6, tokens: tokens) }
            guard let elements = Self.intervalElements(ranges) else { throw tokens.unsupported("address set (overlapping, adjacent or open ranges)") }
            sourceIntervals = elements
            expressions.append(Self.addressLoad(source: true, v6: v6, length: width))
            expressions.append(.lookup(set: NFTablesNetlink.anonymousSetName, setID: nil, register: 1, verdictMap: false, inverted: negated))
            return
        }
        if value.hasPrefix("@") {
            guard !negated else { throw tokens.unsupported("negated set lookup") }
            let name = String(value.dropFirst())
            expressions.append(Self.addressLoad(source: field == "saddr", v6: v6, length: width))
            expressions.append(.lookup(set: name, setID: setIDs[name], register: 1, verdictMap: false))
            return
        }
        try compare(value, field: field, negated: negated, v6: v6, tokens: tokens)
    }

    /// `ip saddr|daddr [!=] <address>|<cidr>`.
    private mutating func compare(_ value: String, field: String, negated: Bool, v6: Bool, tokens: Tokens) throws {
        let width = v6 ? 16 : 4
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ip = IPAddress(sloppy: parts[0]), (ip.family == .ipv6) == v6 else { throw tokens.unsupported("address \(value)") }
        let prefix = parts.count == 2 ? Int(parts[1]) ?? -1 : width * 8
        guard prefix > 0, prefix <= width * 8 else { throw tokens.unsupported("prefix of \(value)") }
        let op: NFTablesExpression.CompareOperator = negated ? .notEqual : .equal
        if prefix % 8 == 0 {
            // Whole bytes: nft loads only the prefix's bytes and compares them.
            expressions.append(Self.addressLoad(source: field == "saddr", v6: v6, length: prefix / 8))
            expressions.append(.compare(register: 1, op: op, value: Array(ip.bytes.prefix(prefix / 8))))
        } else {
            let mask = (0..<width).map { i -> UInt8 in
                let bits = min(8, max(0, prefix - i * 8))
                return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            }
            expressions.append(Self.addressLoad(source: field == "saddr", v6: v6, length: width))
            expressions.append(.bitwise(register: 1, mask: mask, xor: [UInt8](repeating: 0, count: width)))
            expressions.append(.compare(register: 1, op: op, value: zip(ip.bytes, mask).map { $0 & $1 }))
        }
    }

    /// The first and last address of `198.18.5.0/24` (or of one address).
    static func range(_ text: String, width: Int) -> (first: [UInt8], last: [UInt8])? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ip = IPAddress(sloppy: parts[0]), ip.bytes.count == width else { return nil }
        let prefix = parts.count == 2 ? Int(parts[1]) ?? -1 : width * 8
        guard prefix >= 0, prefix <= width * 8 else { return nil }
        var first = ip.bytes, last = ip.bytes
        for i in 0..<width {
            let bits = min(8, max(0, prefix - i * 8))
            let mask = bits == 0 ? UInt8(0) : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            first[i] &= mask
            last[i] = first[i] | ~mask
        }
        return (first, last)
    }

    /// An interval set's elements as nft writes them: an interval end at the zero address, then
    /// each range's first address and the address after its last (flagged as an end). Ranges that
    /// overlap or touch (nft merges them), start at zero or end at the last address are left to nft.
    static func intervalElements(_ ranges: [(first: [UInt8], last: [UInt8])]) -> [NFTablesNetlink.Element]? {
        let sorted = ranges.sorted { $0.first.lexicographicallyPrecedes($1.first) }
        guard let lowest = sorted.first, lowest.first.contains(where: { $0 != 0 }) else { return nil }
        var elements = [NFTablesNetlink.Element(key: [UInt8](repeating: 0, count: lowest.first.count), intervalEnd: true)]
        var previousEnd: [UInt8]?
        for range in sorted {
            if let previousEnd, !previousEnd.lexicographicallyPrecedes(range.first) { return nil }
            guard let end = increment(range.last) else { return nil }
            elements.append(.init(key: range.first))
            elements.append(.init(key: end, intervalEnd: true))
            previousEnd = end
        }
        return elements
    }

    /// `bytes` + 1 as a big-endian number; nil when it overflows.
    static func increment(_ bytes: [UInt8]) -> [UInt8]? {
        var out = bytes
        for i in out.indices.reversed() {
            if out[i] == 0xFF { out[i] = 0 } else { out[i] += 1; return out }
        }
        return nil
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

    /// `payload load` of the source or destination address (or its first `length` bytes) into register 1.
    static func addressLoad(source: Bool, v6: Bool, length: Int) -> NFTablesExpression {
        let offset: UInt32 = v6 ? (source ? 8 : 24) : (source ? 12 : 16)
        return .payload(base: .network, offset: offset, length: UInt32(length), register: 1)
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

/// The words of a rule: whitespace separates, `{`, `}` and `,` stand alone, a quoted string is one word.
struct Tokens {
    private let words: [String]
    private var index = 0
    let text: String

    init(_ text: String) {
        self.text = text
        var words: [String] = [], current = "", quoted = false
        for character in text {
            if quoted {
                current.append(character)
                if character == "\"" { quoted = false }
            } else if character == "\"" {
                current.append(character)
                quoted = true
            } else if character == " " || character == "\t" {
                if !current.isEmpty { words.append(current); current = "" }
            } else if character == "{" || character == "}" || character == "," {
                if !current.isEmpty { words.append(current); current = "" }
                words.append(String(character))
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        self.words = words
    }

    var isAtEnd: Bool { index >= words.count }

    mutating func next() -> String? {
        guard index < words.count else { return nil }
        defer { index += 1 }
        return words[index]
    }

    mutating func putBack() { index -= 1 }

    /// Consumes `word` when it comes next.
    mutating func take(_ word: String) -> Bool {
        guard index < words.count, words[index] == word else { return false }
        index += 1
        return true
    }

    func unsupported(_ what: String) -> NFTWireError {
        NFTWireError(code: .unsupported, message: "\(what) in rule \"\(text)\"")
    }
}
