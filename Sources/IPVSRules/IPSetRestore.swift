import KubeProxyModel

/// The `ipset restore -exist` script of one IPVS-mode sync.
///
/// Every set is created (a no-op when it exists). Without a previous sync to compare with, each
/// set is filled as a temporary set and swapped in, so that no packet ever sees it half-filled;
/// with one, only the entries that changed are added and deleted.
public enum IPSetRestore {
    /// A temporary set's name: `KUBE-TMP-<n>` (ipset names are at most 31 characters).
    static func temporaryName(_ index: Int, family: IPFamily) -> String { (family == .ipv4 ? "KUBE-TMP-" : "KUBE-6-TMP-") + "\(index)" }

    /// - Parameters:
    ///   - previous: the entries the last successful sync left, or nil to rewrite every set.
    public static func script(desired: [IPVSIPSet: Set<String>], previous: [IPVSIPSet: Set<String>]?, family: IPFamily) -> String {
        var lines: [String] = []
        for (index, set) in IPVSIPSet.all.enumerated() {
            let name = set.name(for: family)
            let options = set.createOptions(for: family)
            let want = desired[set] ?? []
            lines.append("create \(name) \(set.kind.rawValue) \(options)")
            if let previous {
                let have = previous[set] ?? []
                for entry in have.subtracting(want).sorted() { lines.append("del \(name) \(entry)") }
                for entry in want.subtracting(have).sorted() { lines.append("add \(name) \(entry)") }
            } else {
                let temp = temporaryName(index, family: family)
                lines.append("create \(temp) \(set.kind.rawValue) \(options)")
                lines.append("flush \(temp)")
                for entry in want.sorted() { lines.append("add \(temp) \(entry)") }
                lines.append("swap \(temp) \(name)")
                lines.append("destroy \(temp)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
