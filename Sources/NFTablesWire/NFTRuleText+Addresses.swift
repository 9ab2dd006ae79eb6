import KubeProxyModel
import Netlink

/// Address matches: `ip saddr|daddr [!=]` an address, a prefix, a named set or a set of ranges.
extension NFTRuleText {
    /// `ip saddr|daddr [!=] <address>|<cidr>|@set`.
    mutating func address(_ tokens: inout Tokens, v6: Bool, setIDs: [String: UInt32]) throws {
        guard let field = tokens.next(), field == "saddr" || field == "daddr" else { throw tokens.unsupported("address field") }
        let negated = tokens.take("!=")
        guard let value = tokens.next() else { throw tokens.unsupported("address value") }
        let width = v6 ? 16 : 4
        if value == "{" {
            guard field == "saddr", anonymousSet == nil else { throw tokens.unsupported("address set of \(field)") }
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
            let set = AnonymousSet(isVerdictMap: false, elements: elements)
            expressions.append(Self.addressLoad(source: true, v6: v6, length: width))
            expressions.append(.lookup(set: set.name, setID: nil, register: 1, verdictMap: false, inverted: negated))
            anonymousSet = set
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

    /// `payload load` of the source or destination address (or its first `length` bytes) into register 1.
    static func addressLoad(source: Bool, v6: Bool, length: Int) -> NFTablesExpression {
        let offset: UInt32 = v6 ? (source ? 8 : 24) : (source ? 12 : 16)
        return .payload(base: .network, offset: offset, length: UInt32(length), register: 1)
    }
}
