/// A knftables-style transaction: plain data, applied by one `nft -f -` call.
public struct NFTTransaction: Hashable, Sendable {
    /// One operation.
    public enum Verb: String, Hashable, Sendable { case add, flush, delete }

    public struct Operation: Hashable, Sendable {
        public var verb: Verb
        public var object: NFTObject
    }

    /// `ip` or `ip6`.
    public var family: String
    /// The table name (`kube-proxy`).
    public var table: String
    public private(set) var operations: [Operation] = []

    public init(family: String, table: String) {
        self.family = family
        self.table = table
    }

    public mutating func add(_ object: NFTObject) { operations.append(Operation(verb: .add, object: object)) }
    public mutating func flush(_ object: NFTObject) { operations.append(Operation(verb: .flush, object: object)) }
    public mutating func delete(_ object: NFTObject) { operations.append(Operation(verb: .delete, object: object)) }

    /// Appends the operations of `other`.
    public mutating func append(_ other: NFTTransaction) { operations.append(contentsOf: other.operations) }

    /// This transaction followed by `other`.
    public func appending(_ other: NFTTransaction) -> NFTTransaction {
        var result = self
        result.append(other)
        return result
    }

    /// Appends `slice` (operations of another transaction of the same table).
    public mutating func append(operations slice: ArraySlice<Operation>) { operations.append(contentsOf: slice) }

    /// The number of operations (upstream's `NumOperations`).
    public var count: Int { operations.count }
    public var isEmpty: Bool { operations.isEmpty }

    /// The text for `nft -f -`.
    public func rendered() -> String {
        var out = ""
        out.reserveCapacity(operations.count * 100)
        for op in operations {
            out += op.object.line(op.verb.rawValue, family: family, table: table)
            out += "\n"
        }
        return out
    }

    /// The chains this transaction adds.
    public var addedChainNames: Set<String> {
        Set(operations.compactMap { op in
            if op.verb == .add, case .chain(let name, _, _) = op.object { name } else { nil }
        })
    }
}
