import KubeProxyCore
import KubeProxyModel

/// How nat KUBE-SERVICES finds a Service's rule.
public enum IPTablesDispatch: Hashable, Sendable {
    /// Upstream's layout: one rule per Service address in KUBE-SERVICES, scanned in order.
    case flat
    /// A shallow tree of `KUBE-DST-…` chains keyed on destination address bits: each level
    /// matches `fanOutBits` more bits, and a leaf holds at most `leafSize` Service rules, so a new
    /// connection evaluates about fan-out × depth rules instead of one per Service address.
    case tree(fanOutBits: Int, leafSize: Int)

    /// The tree with its default shape (16-way, leaves of 16 rules).
    public static let defaultTree = IPTablesDispatch.tree(fanOutBits: 4, leafSize: 16)
}

/// Builds the dispatch tree from the Service-address rules of KUBE-SERVICES.
struct DispatchTree {
    /// One Service-address rule: its destination and the words after `-A CHAIN`.
    struct Entry {
        var destination: IPAddress
        var words: [String]
    }

    /// The rules of KUBE-SERVICES itself, and every tree chain with its rules, by name.
    var rootRules: [String] = []
    var chains: [(name: String, rules: [String])] = []

    static let prefix = "KUBE-DST-"

    /// The chain name for the node covering `cidr`.
    static func chainName(_ cidr: CIDR) -> String { prefix + ChainNames.hash(cidr.description, length: 16) }

    init(entries: [Entry], fanOutBits: Int, leafSize: Int, family: IPFamily) {
        let maxBits = family == .ipv4 ? 32 : 128
        let root = CIDR(address: family == .ipv4 ? .v4(0) : .v6(0, 0), prefixLength: 0)
        rootRules = build(root, entries, chain: IPTablesCompiler.servicesChain, fanOutBits: fanOutBits, leafSize: leafSize, maxBits: maxBits)
    }

    /// Returns the rules of the chain covering `cidr` (appending child chains to `chains`).
    private mutating func build(_ cidr: CIDR, _ entries: [Entry], chain: String, fanOutBits: Int, leafSize: Int, maxBits: Int) -> [String] {
        if entries.count <= leafSize || cidr.prefixLength >= maxBits {
            return entries.map { (["-A", chain] + $0.words).joined(separator: " ") }
        }
        // Descend to the first level where the entries split (no chain for a single child).
        var length = cidr.prefixLength
        var groups: [(CIDR, [Entry])] = []
        while groups.count < 2 && length < maxBits {
            length = min(length + fanOutBits, maxBits)
            var order: [CIDR] = []
            var byChild: [CIDR: [Entry]] = [:]
            for e in entries {
                let child = CIDR(address: e.destination, prefixLength: length)
                if byChild[child] == nil { order.append(child) }
                byChild[child, default: []].append(e)
            }
            groups = order.map { ($0, byChild[$0]!) }
        }
        if groups.count < 2 {
            return entries.map { (["-A", chain] + $0.words).joined(separator: " ") }
        }
        var rules: [String] = []
        for (child, list) in groups.sorted(by: { $0.0.address < $1.0.address }) {
            if list.count == 1 {
                // A lone Service address needs no chain of its own.
                rules.append((["-A", chain] + list[0].words).joined(separator: " "))
                continue
            }
            let name = Self.chainName(child)
            rules.append("-A \(chain) -m comment --comment \"services in \(child)\" -d \(child) -j \(name)")
            let childRules = build(child, list, chain: name, fanOutBits: fanOutBits, leafSize: leafSize, maxBits: maxBits)
            chains.append((name, childRules))
        }
        return rules
    }
}
