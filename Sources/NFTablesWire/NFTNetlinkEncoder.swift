import KubeProxyModel
import Netlink
import NFTablesRules

/// Writes an ``NFTTransaction`` as the nf_tables netlink messages `nft -f` would send for it, for
/// the operations of Service and endpoint chains: regular chains (add, flush, delete), their rules,
/// affinity sets (add, delete) and set and map elements (add, delete). Tables, maps, base chains
/// and set flushes (the table's setup) throw ``NFTWireError`` `.unsupported`: such transactions go
/// to `nft`.
public struct NFTNetlinkEncoder: Sendable {
    public init() {}

    /// A transaction's messages and, for each, the index of the operation it comes from.
    public struct Encoded: Sendable {
        public var messages: [NetlinkMessage]
        public var operations: [Int]
    }

    /// The messages of `transaction`, without the batch markers; sequence numbers from `firstSequence`.
    /// Only the last message asks for an ack: the kernel reports every refusal anyway, and an ack
    /// per message would need ~1 KiB of receive buffer each.
    public func encode(_ transaction: NFTTransaction, firstSequence: UInt32) throws -> Encoded {
        guard let family = NFTablesNetlink.Family(name: transaction.family) else {
            throw NFTWireError(code: .unsupported, message: "family \(transaction.family)")
        }
        let table = transaction.table
        var out: [NetlinkMessage] = [], origins: [Int] = []
        out.reserveCapacity(transaction.count + transaction.count / 4)
        origins.reserveCapacity(out.capacity)
        var sequence = firstSequence
        func next() -> UInt32 { defer { sequence &+= 1 }; return sequence }
        var setIDs: [String: UInt32] = [:]
        var lastSetID: UInt32 = 0
        for (index, operation) in transaction.operations.enumerated() {
            do {
                switch (operation.verb, operation.object) {
                case (.add, .chain(let name, nil, let comment)):
                    out.append(NFTablesNetlink.chain(add: true, family: family, table: table, name: name, comment: comment, sequence: next(), ack: false))
                case (.flush, .chain(let name, nil, _)):
                    out.append(NFTablesNetlink.flushChain(family: family, table: table, name: name, sequence: next(), ack: false))
                case (.delete, .chain(let name, nil, _)):
                    out.append(NFTablesNetlink.chain(add: false, family: family, table: table, name: name, sequence: next(), ack: false))
                case (.add, .rule(let chain, let text)):
                    let rule = try NFTRuleText(text, family: transaction.family, setIDs: setIDs)
                    var expressions = rule.expressions
                    if let set = rule.anonymousSet {
                        lastSetID += 1
                        let id = lastSetID, size = UInt32(set.elements.count)
                        out.append(set.isVerdictMap
                            ? NFTablesNetlink.anonymousVerdictMap(family: family, table: table, id: id, size: size, sequence: next(), ack: false)
                            : NFTablesNetlink.anonymousSourceIntervals(family: family, table: table, id: id, size: size, sequence: next(), ack: false))
                        out.append(NFTablesNetlink.elements(add: true, family: family, table: table, set: set.name, setID: id, set.elements,
                                                            sequence: next(), ack: false))
                        // The rule's lookup binds the set by the id it has in this batch.
                        expressions = expressions.map { expression in
                            guard case .lookup(set.name, nil, let register, let map, let inverted) = expression else { return expression }
                            return .lookup(set: set.name, setID: id, register: register, verdictMap: map, inverted: inverted)
                        }
                    }
                    out.append(NFTablesNetlink.rule(family: family, table: table, chain: chain, expressions, comment: rule.comment, sequence: next(), ack: false))
                case (.add, .set(let name, let type, let flags, let timeout?, nil))
                    where type == (family == .ip6 ? "ipv6_addr" : "ipv4_addr") && flags == ["dynamic", "timeout"]:
                    lastSetID += 1
                    setIDs[name] = lastSetID
                    out.append(NFTablesNetlink.timeoutSet(family: family, table: table, name: name, timeoutMilliseconds: UInt64(timeout) * 1000,
                                                          id: lastSetID, sequence: next(), ack: false))
                case (.delete, .set(let name, _, _, _, _)):
                    out.append(NFTablesNetlink.deleteSet(family: family, table: table, name: name, sequence: next(), ack: false))
                case (.add, .element(let container, let key, let value, let comment)):
                    let element = try Self.element(key: key, value: value, comment: comment)
                    out.append(NFTablesNetlink.elements(add: true, family: family, table: table, set: container, setID: setIDs[container], [element],
                                                        sequence: next(), ack: false))
                case (.delete, .element(let container, let key, _, _)):
                    let element = try Self.element(key: key, value: nil, comment: nil)
                    out.append(NFTablesNetlink.elements(add: false, family: family, table: table, set: container, [element], sequence: next(), ack: false))
                default:
                    throw NFTWireError(code: .unsupported, message: "\(operation.verb.rawValue) \(operation.object.kind)")
                }
            } catch var error as NFTWireError {
                error.operation = index
                throw error
            }
            origins += repeatElement(index, count: out.count - origins.count)
        }
        if var last = out.popLast() {
            last.flags.insert(.ack)
            out.append(last)
        }
        return Encoded(messages: out, operations: origins)
    }

    /// An element from the compiler's text: key fields joined by ` . ` (addresses, `tcp`/`udp`/`sctp`,
    /// ports), a verdict value for maps.
    static func element(key: String, value: String?, comment: String?) throws -> NFTablesNetlink.Element {
        var fields: [[UInt8]] = []
        for field in key.split(separator: " . ") {
            if let number = NFTRuleText.protocolNumber(String(field)) {
                fields.append([number])
            } else if let port = UInt16(field) {
                fields.append([UInt8(port >> 8), UInt8(port & 0xFF)])
            } else if let ip = IPAddress(sloppy: field) {
                fields.append(ip.bytes)
            } else {
                throw NFTWireError(code: .malformed, message: "element key \"\(key)\": field \"\(field)\"")
            }
        }
        var data = NFTablesNetlink.Data.none
        if let value {
            var tokens = Tokens(value)
            let verdict: NFTablesExpression.Verdict
            switch (tokens.next(), tokens.next()) {
            case ("drop", nil): verdict = .drop
            case ("accept", nil): verdict = .accept
            case ("goto", let chain?): verdict = .goto(chain)
            case ("jump", let chain?): verdict = .jump(chain)
            default: throw NFTWireError(code: .unsupported, message: "element value \"\(value)\"")
            }
            guard tokens.isAtEnd else { throw NFTWireError(code: .unsupported, message: "element value \"\(value)\"") }
            data = .verdict(verdict)
        }
        return NFTablesNetlink.Element(key: NFTablesNetlink.key(fields), data: data, comment: comment)
    }
}
