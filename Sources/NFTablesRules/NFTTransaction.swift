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

    /// The text for `nft -f -`, with each added element of a set or map declared earlier in the
    /// transaction written as that declaration holding it (`add map … { type … ; elements = { … } ; }`).
    /// An `add element` command makes nft 1.0 dump the elements of every interval set of the table
    /// before it applies anything (seconds with 10k endpoint maps); a declaration does not. Still one
    /// line per operation, so nft's line numbers name operations.
    public func renderedForNFT() -> String {
        var out = ""
        out.reserveCapacity(operations.count * 100)
        var declarations: [String: NFTObject] = [:]
        for op in operations {
            switch (op.verb, op.object) {
            case (.add, .set(let name, _, _, _, _)), (.add, .map(let name, _, _)):
                declarations[name] = op.object
                out += op.object.line("add", family: family, table: table)
            case (.add, .element(let container, let key, let value, let comment)):
                if let declaration = declarations[container] {
                    var element = key
                    if let comment { element += " comment \"\(comment)\"" }
                    if let value { element += " : \(value)" }
                    var line = declaration.line("add", family: family, table: table)
                    line.removeLast()   // the declaration's closing brace
                    out += line + "elements = { \(element) } ; }"
                } else {
                    out += op.object.line("add", family: family, table: table)
                }
            default:
                out += op.object.line(op.verb.rawValue, family: family, table: table)
            }
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
