/// What happened to a traced packet.
public struct TraceResult: Hashable, Sendable, Codable {
    /// What the rules decided: `DNAT`, `ACCEPT`, `DROP`, `REJECT`, or `NONE` when no kube-proxy rule handled it.
    public var verdict: String
    /// The endpoints the packet may be sent to (`ip:port`), in rule order.
    public var endpoints: [String]
    /// Each endpoint with the probability that a new connection picks it.
    public var candidates: [Candidate]
    /// Whether the packet goes through KUBE-MARK-MASQ (its source will be masqueraded).
    public var masquerade: Bool
    /// Rules the kernel evaluates for this packet, on the longest path (the last candidate endpoint).
    public var rulesEvaluated: Int
    /// Every chain entered and rule evaluated, in order.
    public var steps: [TraceStep]
    /// Upstream's tracer output: DNAT targets and filter verdicts joined by `, `.
    public var upstreamOutput: String

    /// One possible endpoint.
    public struct Candidate: Hashable, Sendable, Codable {
        public var endpoint: String
        public var probability: Double
        /// The chain that DNATs to it.
        public var chain: String
    }
}

/// One step of a trace: a chain entered, or a rule evaluated in it.
public struct TraceStep: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case chain, rule }
    public var kind: Kind
    public var table: String
    public var chain: String
    /// Nesting depth (0 for a built-in chain).
    public var depth: Int
    /// For rules: the rule text.
    public var rule: String?
    /// For rules: whether it matched.
    public var matched: Bool?
    /// What the step did, in words (`jump KUBE-SVC-…`, `DNAT to 10.0.0.1:80`, `no match: -d`, ...).
    public var note: String
}
