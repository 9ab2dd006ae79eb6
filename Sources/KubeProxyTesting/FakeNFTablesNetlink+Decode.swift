import Netlink
import NFTablesRules
import NFTablesWire

extension FakeNFTablesNetlink {
    /// A batch as a transaction, and for each operation the index of its message in the batch.
    struct Batch {
        var transaction: NFTTransaction
        var origins: [Int]
    }

    /// Checks the framing of `messages` and decodes them for `table`, as the kernel would before
    /// it runs anything. Anonymous sets live in the batch only: a rule's lookup takes their
    /// elements by set id, and one that no rule binds is refused (EINVAL), as the kernel does.
    static func decode(_ messages: [NetlinkMessage], table: NFTablesState) throws -> Batch {
        let count = messages.count
        guard let first = messages.first, NFTablesNetlink.isBatchMarker(first, begin: true) else { throw refusal(0, of: count, errno: 22, "no BATCH_BEGIN") }
        guard count >= 2, NFTablesNetlink.isBatchMarker(messages[count - 1], begin: false) else { throw refusal(count - 1, of: count, errno: 22, "no BATCH_END") }
        if let gap = (1..<count).first(where: { messages[$0].sequence != messages[$0 - 1].sequence &+ 1 }) {
            throw refusal(gap, of: count, errno: 22, "sequence \(messages[gap].sequence) after \(messages[gap - 1].sequence)")
        }
        var tx = NFTTransaction(family: table.family, table: table.table), origins: [Int] = []
        var types = table.containers.mapValues(\.type)
        var anonymous: [UInt32: (index: Int, declaration: NFTablesNetlink.SetDeclaration, elements: [NFTablesNetlink.Element], bound: Bool)] = [:]
        var named: [UInt32: String] = [:]
        for index in 1..<(count - 1) {
            do {
                let message = messages[index]
                guard message.flags.contains(.request) else { throw refusal(index, of: count, errno: 22, "not a request") }
                let (family, operation) = try NFTablesNetlink.operation(in: message)
                guard family == NFTablesNetlink.Family(name: table.family), operation.table == table.table else {
                    throw refusal(index, of: count, errno: 2, "no table \(operation.table) in family \(family)")
                }
                switch operation {
                case .addChain(_, let name, let comment): tx.add(.chain(name: name, base: nil, comment: comment))
                case .deleteChain(_, let name): tx.delete(.chain(name: name, base: nil, comment: nil))
                case .flushChain(_, let name): tx.flush(.chain(name: name, base: nil, comment: nil))
                case .addRule(_, let chain, let expressions, let comment, let appended):
                    guard appended else { throw refusal(index, of: count, errno: 95, "a rule inserted first") }
                    for case let .lookup(set, id?, _, _, _) in expressions {
                        if anonymous[id] != nil { anonymous[id]!.bound = true } else if named[id] != set { throw refusal(index, of: count, errno: 2, "no set id \(id)") }
                    }
                    for case let .dynsetUpdate(set, id?, _) in expressions where named[id] != set { throw refusal(index, of: count, errno: 2, "no set id \(id)") }
                    let text = try NFTExpressionText.rule(expressions, comment: comment, family: table.family) { id in
                        anonymous[id].map { (isVerdictMap: $0.declaration.isMap, elements: $0.elements) }
                    }
                    tx.add(.rule(chain: chain, text: text))
                case .addSet(let set) where set.isAnonymous:
                    guard let id = set.id, anonymous[id] == nil else { throw refusal(index, of: count, errno: 22, "anonymous set without a new id") }
                    anonymous[id] = (index, set, [], false)
                case .addSet(let set):
                    let type: String? = set.keyType == 7 && set.keyLength == 4 ? "ipv4_addr" : set.keyType == 8 && set.keyLength == 16 ? "ipv6_addr" : nil
                    guard let type, set.flags == 0x30, set.dataType == nil, let timeout = set.timeoutMilliseconds, timeout % 1000 == 0 else {
                        throw refusal(index, of: count, errno: 95, "set \(set.name): only address sets with flags dynamic,timeout and a timeout in seconds")
                    }
                    if let id = set.id { named[id] = set.name }
                    types[set.name] = type
                    tx.add(.set(name: set.name, type: type, flags: ["dynamic", "timeout"], timeoutSeconds: Int(timeout / 1000), comment: nil))
                case .deleteSet(_, let name): tx.delete(.set(name: name, type: types[name] ?? "", flags: [], timeoutSeconds: nil, comment: nil))
                case .elements(let add, _, let set, let id, let elements):
                    if let id, anonymous[id] != nil, add {
                        anonymous[id]!.elements += elements
                        if let size = anonymous[id]!.declaration.size, anonymous[id]!.elements.count > size { throw refusal(index, of: count, errno: 23, "set full") }
                        continue
                    }
                    guard let type = types[set], id.map({ named[$0] == set }) ?? true else { throw refusal(index, of: count, errno: 2, "no set \(set)") }
                    for element in elements {
                        guard !element.intervalEnd else { throw refusal(index, of: count, errno: 95, "interval elements of \(set)") }
                        let key = try NFTElementText.key(element.key, type: type)
                        let value: String? = switch element.data {
                        case .none: nil
                        case .verdict(let verdict): NFTElementText.verdict(verdict)
                        case .bytes: throw refusal(index, of: count, errno: 95, "element data other than a verdict")
                        }
                        if add { tx.add(.element(container: set, key: key, value: value, comment: element.comment)) }
                        else { tx.delete(.element(container: set, key: key, value: nil, comment: nil)) }
                    }
                }
            } catch let error as NetlinkError where error.batchIndex == nil {
                throw refusal(index, of: count, errno: error.errno == 0 ? 22 : error.errno, error.message)
            } catch let error as NFTWireError {
                throw refusal(index, of: count, errno: error.code == .malformed ? 22 : 95, error.message)
            }
            origins += repeatElement(index, count: tx.count - origins.count)
        }
        if let unbound = anonymous.values.filter({ !$0.bound }).map(\.index).min() { throw refusal(unbound, of: count, errno: 22, "anonymous set not bound") }
        return Batch(transaction: tx, origins: origins)
    }
}
