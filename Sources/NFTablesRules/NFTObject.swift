/// One object of an nftables table, as knftables models it: the unit of every operation.
public enum NFTObject: Hashable, Sendable {
    /// The table, with its comment.
    case table(comment: String?)
    /// A chain; base chains carry their type, hook and priority.
    case chain(name: String, base: BaseChain?, comment: String?)
    /// A rule appended to `chain`, in nft syntax.
    case rule(chain: String, text: String)
    /// A set (`type`, optional flags and timeout).
    case set(name: String, type: String, flags: [String], timeoutSeconds: Int?, comment: String?)
    /// A map (`type` is `key : value`, or a whole `typeof key : value ; flags …` declaration).
    case map(name: String, type: String, comment: String?)
    /// An element of a set or map: key, optional value (maps), optional comment.
    case element(container: String, key: String, value: String?, comment: String?)

    /// A base chain's type, hook and priority.
    public struct BaseChain: Hashable, Sendable {
        public var type: String
        public var hook: String
        public var priority: Int
        public init(type: String, hook: String, priority: Int) {
            self.type = type
            self.hook = hook
            self.priority = priority
        }
    }

    /// Whether this is a set or a map.
    public var isContainer: Bool {
        switch self {
        case .set, .map: true
        default: false
        }
    }

    /// The word nft uses for the object's kind.
    public var kind: String {
        switch self {
        case .table: "table"
        case .chain: "chain"
        case .rule: "rule"
        case .set: "set"
        case .map: "map"
        case .element: "element"
        }
    }

    /// The object's text after `add <kind> <family> <table> `.
    func body(family: String, table: String) -> String {
        func comment(_ c: String?) -> String { c.map { "comment \"\($0)\" ; " } ?? "" }
        switch self {
        case .table(let c):
            return c == nil ? "" : " { \(comment(c))}"
        case .chain(let name, let base, let c):
            var out = name
            if let base { out += " { type \(base.type) hook \(base.hook) priority \(base.priority) ; \(comment(c))}" }
            else if c != nil { out += " { \(comment(c))}" }
            return out
        case .rule(let chain, let text):
            return "\(chain) \(text)"
        case .set(let name, let type, let flags, let timeout, let c):
            var out = "\(name) { type \(type) ; "
            if !flags.isEmpty { out += "flags \(flags.joined(separator: ",")) ; " }
            if let timeout { out += "timeout \(timeout)s ; " }
            return out + comment(c) + "}"
        case .map(let name, let type, let c):
            // A `typeof …` declaration (with any `; flags …` after it) is written as given.
            return "\(name) { \(type.hasPrefix("typeof ") ? type : "type " + type) ; \(comment(c))}"
        case .element(let container, let key, let value, let c):
            var out = "\(container) { \(key)"
            if let c { out += " comment \"\(c)\"" }
            if let value { out += " : \(value)" }
            return out + " }"
        }
    }

    /// `add table ip kube-proxy …` style text for `verb` (add, flush, delete).
    public func line(_ verb: String, family: String, table: String) -> String {
        switch self {
        case .table:
            return verb == "add" ? "add table \(family) \(table)\(body(family: family, table: table))" : "\(verb) table \(family) \(table)"
        case .chain(let name, _, _) where verb != "add":
            return "\(verb) chain \(family) \(table) \(name)"
        case .set(let name, _, _, _, _) where verb != "add", .map(let name, _, _) where verb != "add":
            return "\(verb) \(kind) \(family) \(table) \(name)"
        case .element(let container, let key, _, _) where verb == "delete":
            return "delete element \(family) \(table) \(container) { \(key) }"
        default:
            return "\(verb) \(kind) \(family) \(table) \(body(family: family, table: table))"
        }
    }
}
