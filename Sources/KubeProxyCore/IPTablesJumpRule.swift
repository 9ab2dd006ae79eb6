/// A rule kube-proxy ensures in a built-in chain, outside the restore payload (iptables mode's
/// jumps are in IPTablesRules, IPVS mode's in IPVSRules).
public struct IPTablesJumpRule: Hashable, Sendable {
    public var table: String
    public var from: String
    public var args: [String]
    /// The chain jumped to.
    public var to: String { args.last ?? "" }

    public init(table: String, from: String, args: [String]) {
        self.table = table
        self.from = from
        self.args = args
    }
}
