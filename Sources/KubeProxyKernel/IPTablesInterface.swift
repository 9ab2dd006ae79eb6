import KubeProxyModel

/// The iptables operations a proxier needs; ``IPTablesCommands`` runs the real tools and
/// `FakeIPTables` (KubeProxyTesting) keeps tables in memory.
public protocol IPTablesInterface: Sendable {
    /// The family this interface programs.
    var family: IPFamily { get }
    /// Feeds `payload` to `iptables-restore --noflush --counters`.
    /// - Throws: ``IPTablesRestoreError`` with the failing line when the restore is refused.
    func restore(_ payload: String) async throws
    /// The `iptables-save -t table` text.
    func save(table: String) async throws -> String
    /// Creates `chain` in `table` if it does not exist.
    func ensureChain(table: String, chain: String) async throws
    /// Inserts the rule `args` at the top of `chain` unless an identical rule exists.
    func ensureRule(table: String, chain: String, args: [String]) async throws
    /// Deletes the rule `args` from `chain` if it exists.
    func deleteRule(table: String, chain: String, args: [String]) async throws
    /// Whether `chain` exists in `table`.
    func chainExists(table: String, chain: String) async -> Bool
}

/// An `iptables-restore` that failed: nothing of the failing table was applied.
public struct IPTablesRestoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let restoreFailed = Code(name: "restoreFailed")
        public static let commandFailed = Code(name: "commandFailed")
        public var description: String { name }
    }
    public var code: Code
    /// The payload line the tool complained about, when it said so.
    public var line: Int?
    /// The tool's message.
    public var message: String

    public init(code: Code, line: Int?, message: String) {
        self.code = code
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(code)\(line.map { " at line \($0)" } ?? ""): \(message)"
    }
}
