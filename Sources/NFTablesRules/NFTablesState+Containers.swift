extension NFTablesState {
    /// Sets, maps and elements.
    mutating func applyContainer(_ op: NFTTransaction.Operation) throws {
        func fail(_ code: NFTablesError.Code, _ message: String) -> NFTablesError { NFTablesError(code: code, operation: 0, message: message) }
        switch (op.verb, op.object) {
        case (.add, .set(let name, let type, let flags, let timeout, let comment)):
            try addContainer(name, Container(isMap: false, type: type, flags: flags, timeoutSeconds: timeout, comment: comment))
        case (.add, .map(let name, let type, let comment)):
            try addContainer(name, Container(isMap: true, type: type, flags: [], timeoutSeconds: nil, comment: comment))
        case (.flush, .set(let name, _, _, _, _)), (.flush, .map(let name, _, _)):
            guard containers[name] != nil else { throw fail(.notFound, "no such set or map \(name)") }
            containers[name]!.keys = []
            containers[name]!.elements = [:]
        case (.delete, .set(let name, _, _, _, _)), (.delete, .map(let name, _, _)):
            guard containers[name] != nil else { throw fail(.notFound, "no such set or map \(name)") }
            if chainOrder.contains(where: { chains[$0]!.rules.contains { $0.contains("@\(name) ") || $0.hasSuffix("@\(name)") } }) {
                throw fail(.busy, "set \(name) is still referenced")
            }
            containers[name] = nil
            containerOrder.removeAll { $0 == name }
        case (.add, .element(let container, let key, let value, let comment)):
            guard let c = containers[container] else { throw fail(.notFound, "no such set or map \(container)") }
            guard c.isMap == (value != nil) else { throw fail(.invalid, "element of \(container) needs \(c.isMap ? "a" : "no") value") }
            if let value { try checkReferences(value) }
            if let existing = c.elements[key] {
                if existing.value != value { throw fail(.exists, "element \(key) of \(container) exists with another value") }
                return
            }
            containers[container]!.keys.append(key)
            containers[container]!.elements[key] = (value, comment)
        case (.delete, .element(let container, let key, _, _)):
            guard containers[container]?.elements[key] != nil else { throw fail(.notFound, "no element \(key) in \(container)") }
            containers[container]!.elements[key] = nil
            containers[container]!.keys.removeAll { $0 == key }
        default:
            throw fail(.invalid, "unsupported operation")
        }
    }

    private mutating func addContainer(_ name: String, _ container: Container) throws {
        if let existing = containers[name] {
            guard existing.type == container.type && existing.isMap == container.isMap else {
                throw NFTablesError(code: .exists, operation: 0, message: "\(name) exists with another type")
            }
            return
        }
        containers[name] = container
        containerOrder.append(name)
    }

    /// Every chain (`jump`/`goto`) and set (`@name`) that `text` names must exist.
    func checkReferences(_ text: String) throws {
        let words = text.split(separator: " ")
        for (i, w) in words.enumerated() {
            if (w == "jump" || w == "goto"), i + 1 < words.count {
                let target = String(words[i + 1])
                if chains[target] == nil { throw NFTablesError(code: .notFound, operation: 0, message: "no such chain \(target)") }
            }
            if w.hasPrefix("@") {
                let name = String(w.dropFirst())
                if containers[name] == nil { throw NFTablesError(code: .notFound, operation: 0, message: "no such set or map \(name)") }
            }
        }
    }

    /// Whether a rule or a map element jumps to `chain`.
    func isReferenced(chain: String) -> Bool {
        let needles = ["jump \(chain)", "goto \(chain)"]
        func mentions(_ text: String) -> Bool {
            needles.contains { n in text.hasSuffix(n) || text.contains(n + " ") }
        }
        if chainOrder.contains(where: { chains[$0]!.rules.contains(where: mentions) }) { return true }
        return containerOrder.contains { c in containers[c]!.elements.values.contains { $0.value.map(mentions) ?? false } }
    }

    /// The table as `add …` lines, one per object, element or rule (knftables' `Fake.Dump`).
    public func dump() -> String {
        guard exists else { return "" }
        var lines = [NFTObject.table(comment: tableComment).line("add", family: family, table: table)]
        for name in chainOrder {
            let c = chains[name]!
            lines.append(NFTObject.chain(name: name, base: c.base, comment: c.comment).line("add", family: family, table: table))
        }
        for name in containerOrder {
            let c = containers[name]!
            let object: NFTObject = c.isMap ? .map(name: name, type: c.type, comment: c.comment)
                : .set(name: name, type: c.type, flags: c.flags, timeoutSeconds: c.timeoutSeconds, comment: c.comment)
            lines.append(object.line("add", family: family, table: table))
        }
        for name in chainOrder {
            for rule in chains[name]!.rules { lines.append(NFTObject.rule(chain: name, text: rule).line("add", family: family, table: table)) }
        }
        for name in containerOrder {
            let c = containers[name]!
            for key in c.keys {
                let e = c.elements[key]!
                lines.append(NFTObject.element(container: name, key: key, value: e.value, comment: e.comment).line("add", family: family, table: table))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The names of the chains.
    public var chainNames: [String] { chainOrder }
    /// The names of the sets and maps.
    public var containerNames: [String] { containerOrder }
}

/// An nftables transaction that was refused.
public struct NFTablesError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let notFound = Code(name: "notFound")
        public static let exists = Code(name: "exists")
        public static let busy = Code(name: "busy")
        public static let invalid = Code(name: "invalid")
        public static let commandFailed = Code(name: "commandFailed")
        public var description: String { name }
    }
    public var code: Code
    /// The 1-based operation (line) that failed, when known.
    public var operation: Int
    public var message: String
    public init(code: Code, operation: Int, message: String) {
        self.code = code
        self.operation = operation
        self.message = message
    }
    public var description: String { "\(code) at operation \(operation): \(message)" }
}
