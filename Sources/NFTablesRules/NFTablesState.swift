/// The contents of one nftables table, with the semantics of knftables' Fake: transactions apply
/// atomically, `add` is idempotent, `flush` and `delete` need the object, and nothing may point at
/// a chain or set that does not exist. It stands in for the kernel in tests, `render` and `trace`.
public struct NFTablesState: Hashable, Sendable {
    public struct Chain: Hashable, Sendable {
        public var base: NFTObject.BaseChain?
        public var comment: String?
        public var rules: [String] = []
    }

    public struct Container: Hashable, Sendable {
        public var isMap: Bool
        public var type: String
        public var flags: [String]
        public var timeoutSeconds: Int?
        public var comment: String?
        /// Elements by key, in insertion order.
        public var keys: [String] = []
        public var elements: [String: (value: String?, comment: String?)] = [:]

        public static func == (a: Container, b: Container) -> Bool {
            a.isMap == b.isMap && a.type == b.type && a.flags == b.flags && a.timeoutSeconds == b.timeoutSeconds && a.comment == b.comment
                && a.keys == b.keys && a.keys.allSatisfy { a.elements[$0]?.value == b.elements[$0]?.value && a.elements[$0]?.comment == b.elements[$0]?.comment }
        }
        public func hash(into h: inout Hasher) { h.combine(type); h.combine(keys) }
    }

    public var family: String
    public var table: String
    public var exists = false
    public var tableComment: String?
    public internal(set) var chainOrder: [String] = []
    public internal(set) var chains: [String: Chain] = [:]
    public internal(set) var containerOrder: [String] = []
    public internal(set) var containers: [String: Container] = [:]

    public init(family: String = "ip", table: String = "kube-proxy") {
        self.family = family
        self.table = table
    }

    /// Applies `transaction` atomically.
    /// - Throws: ``NFTablesError`` naming the failing operation; the state is then unchanged.
    public mutating func apply(_ transaction: NFTTransaction) throws {
        var next = self
        for (index, op) in transaction.operations.enumerated() {
            do {
                try next.apply(op)
            } catch let error as NFTablesError {
                throw NFTablesError(code: error.code, operation: index + 1,
                                    message: "\(error.message): \(op.object.line(op.verb.rawValue, family: family, table: table))")
            }
        }
        self = next
    }

    private mutating func apply(_ op: NFTTransaction.Operation) throws {
        func fail(_ code: NFTablesError.Code, _ message: String) -> NFTablesError { NFTablesError(code: code, operation: 0, message: message) }
        if case .table(let comment) = op.object {
            switch op.verb {
            case .add: exists = true; if comment != nil { tableComment = comment }
            case .flush: guard exists else { throw fail(.notFound, "no such table") }; for k in chainOrder { chains[k]?.rules = [] }
                for k in containerOrder { containers[k]?.keys = []; containers[k]?.elements = [:] }
            case .delete: guard exists else { throw fail(.notFound, "no such table") }; self = NFTablesState(family: family, table: table)
            }
            return
        }
        guard exists else { throw fail(.notFound, "no such table") }
        switch (op.verb, op.object) {
        case (.add, .chain(let name, let base, let comment)):
            if let existing = chains[name] {
                if existing.base != base { throw fail(.exists, "chain \(name) exists with another hook or priority") }
            } else {
                chains[name] = Chain(base: base, comment: comment)
                chainOrder.append(name)
            }
        case (.flush, .chain(let name, _, _)):
            guard chains[name] != nil else { throw fail(.notFound, "no such chain \(name)") }
            chains[name]!.rules = []
        case (.delete, .chain(let name, _, _)):
            guard chains[name] != nil else { throw fail(.notFound, "no such chain \(name)") }
            if isReferenced(chain: name) { throw fail(.busy, "chain \(name) is still referenced") }
            chains[name] = nil
            chainOrder.removeAll { $0 == name }
        case (.add, .rule(let chain, let text)):
            guard chains[chain] != nil else { throw fail(.notFound, "no such chain \(chain)") }
            try checkReferences(text)
            chains[chain]!.rules.append(text)
        default:
            try applyContainer(op)
        }
    }
}
