import KubeProxyModel
import Netlink
import NFTablesRules

/// Writes an ``NFTTransaction`` as the nf_tables netlink messages `nft -f` would send for it, for
/// the operations of Service and endpoint chains: regular chains (add, flush, delete), their rules,
/// affinity sets (add, delete), set and map flushes, and set and map elements (add, delete;
/// `first-last` keys of interval maps as a start and an end element). Tables, new maps and base
/// chains (the table's setup) throw ``NFTWireError`` `.unsupported`: such transactions go to `nft`.
public struct NFTNetlinkEncoder: Sendable {
    public init() {}

    /// A transaction's messages and, for each, the index of the operation it comes from.
    public struct Encoded: Sendable {
        public var messages: [NetlinkMessage]
        public var operations: [Int]
    }

    /// The messages of `transaction`, without the batch markers; sequence numbers from `firstSequence`.
    /// Only the last message asks for an ack: the kernel reports every refusal anyway, and an ack
    /// per message would need ~1 KiB of receive buffer each. A message of several elements names
    /// the first of their operations.
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
        // Consecutive element operations on one set share a message (one set lookup in the kernel
        // instead of one per element), up to `elementBytesPerMessage`.
        var pending: (add: Bool, set: String, elements: [NFTablesNetlink.Element], bytes: Int, index: Int)?
        func flushPending() {
            guard let p = pending else { return }
            out.append(NFTablesNetlink.elements(add: p.add, family: family, table: table, set: p.set, setID: setIDs[p.set], p.elements,
                                                sequence: next(), ack: false))
            origins.append(p.index)
            pending = nil
        }
        func queue(add: Bool, _ set: String, _ elements: [NFTablesNetlink.Element], index: Int) {
            let bytes = elements.reduce(0) { $0 + Self.estimatedSize($1) }
            if let p = pending, p.add == add, p.set == set, p.bytes + bytes <= Self.elementBytesPerMessage {
                pending!.elements += elements
                pending!.bytes += bytes
                return
            }
            flushPending()
            pending = (add, set, elements, bytes, index)
        }
        for (index, operation) in transaction.operations.enumerated() {
            do {
                if case .element = operation.object {} else { flushPending() }
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
                case (.add, .map(let name, let type, nil)) where Self.endpointMapTransport(type, family: transaction.family) != nil:
                    lastSetID += 1
                    setIDs[name] = lastSetID
                    out.append(NFTablesNetlink.endpointMap(family: family, table: table, name: name, id: lastSetID,
                                                           modulus: UInt32(NFTablesCompiler.endpointSlots),
                                                           transport: Self.endpointMapTransport(type, family: transaction.family)!,
                                                           sequence: next(), ack: false))
                case (.flush, .set(let name, _, _, _, _)), (.flush, .map(let name, _, _)):
                    out.append(NFTablesNetlink.flushSet(family: family, table: table, name: name, sequence: next(), ack: false))
                case (.delete, .set(let name, _, _, _, _)):
                    out.append(NFTablesNetlink.deleteSet(family: family, table: table, name: name, sequence: next(), ack: false))
                case (.add, .element(let container, let key, let value, let comment)):
                    queue(add: true, container, try Self.elements(key: key, value: value, comment: comment), index: index)
                case (.delete, .element(let container, let key, _, _)):
                    queue(add: false, container, try Self.elements(key: key, value: nil, comment: nil), index: index)
                default:
                    throw NFTWireError(code: .unsupported, message: "\(operation.verb.rawValue) \(operation.object.kind)")
                }
            } catch var error as NFTWireError {
                error.operation = index
                throw error
            }
            origins += repeatElement(index, count: out.count - origins.count)
        }
        flushPending()
        if var last = out.popLast() {
            last.flags.insert(.ack)
            out.append(last)
        }
        return Encoded(messages: out, operations: origins)
    }

    /// The most element bytes one message carries: the element list is one attribute, whose length
    /// field has 16 bits.
    static let elementBytesPerMessage = 32 * 1024

    /// About what `element` takes in a message (key, data, comment and their attribute headers).
    static func estimatedSize(_ element: NFTablesNetlink.Element) -> Int {
        let data: Int
        switch element.data {
        case .none: data = 0
        case .bytes(let bytes): data = bytes.count + 8
        case .verdict(let verdict):
            switch verdict {
            case .jump(let chain), .goto(let chain): data = chain.utf8.count + 28
            default: data = 20
            }
        }
        return element.key.count + data + (element.comment.map { $0.utf8.count + 8 } ?? 0) + 32
    }

    /// nft's protocol id for the port of an endpoint map declared as `type` (nil: another kind of map).
    static func endpointMapTransport(_ type: String, family: String) -> UInt32? {
        for (name, id) in [("tcp", 8), ("udp", 6), ("sctp", 10)] as [(String, UInt32)]
        where type == NFTablesCompiler.endpointMapType(family: family, protocol: name) { return id }
        return nil
    }

    /// The kernel elements of one element of the compiler's text: itself, or for a `first-last` key
    /// (an endpoint map's slot range) a start element holding the value and an end element at `last + 1`
    /// (nft, adding a range to a map that already exists, writes an end element at 0 before it too:
    /// a marker no key matches, left out here).
    static func elements(key: String, value: String?, comment: String?) throws -> [NFTablesNetlink.Element] {
        let bounds = key.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = UInt32(bounds[0]), let last = UInt32(bounds[1]), first <= last, last < UInt32.max else {
            return [try element(key: key, value: value, comment: comment)]
        }
        return [NFTablesNetlink.Element(key: bigEndian(first), data: try value.map(data) ?? .none, comment: comment),
                NFTablesNetlink.Element(key: bigEndian(last + 1), intervalEnd: true)]
    }

    /// An integer key of an interval map: nft stores it in network order (the rule converts `numgen`'s result).
    static func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    /// An element from the compiler's text: key fields joined by ` . ` (addresses, `tcp`/`udp`/`sctp`,
    /// ports), for maps a verdict or an `address . port` value.
    static func element(key: String, value: String?, comment: String?) throws -> NFTablesNetlink.Element {
        NFTablesNetlink.Element(key: NFTablesNetlink.key(try fields(key)), data: try value.map(data) ?? .none, comment: comment)
    }

    /// The fields of a key or value: addresses, protocol names, ports.
    static func fields(_ key: String) throws -> [[UInt8]] {
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
        return fields
    }

    /// A map element's value: a verdict, or data fields (`198.18.1.2 . 8080`).
    static func data(_ value: String) throws -> NFTablesNetlink.Data {
        var tokens = Tokens(value)
        let verdict: NFTablesExpression.Verdict
        switch (tokens.next(), tokens.next()) {
        case ("drop", nil): verdict = .drop
        case ("accept", nil): verdict = .accept
        case ("goto", let chain?): verdict = .goto(chain)
        case ("jump", let chain?): verdict = .jump(chain)
        case (let first?, _) where IPAddress(sloppy: first) != nil:
            return .bytes(NFTablesNetlink.key(try fields(value)))
        default: throw NFTWireError(code: .unsupported, message: "element value \"\(value)\"")
        }
        guard tokens.isAtEnd else { throw NFTWireError(code: .unsupported, message: "element value \"\(value)\"") }
        return .verdict(verdict)
    }
}
