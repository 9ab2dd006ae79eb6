import KubeProxyModel

extension IPSetContents {
    /// kube-proxy's sets (`KUBE-…`) from `ipset save` output, by name, entries as the tracer
    /// matches them: comments and timeouts dropped, and a `net` component the kernel prints
    /// without its length (a host, `198.18.2.2`) given one (`198.18.2.2/32`).
    public static func sets(inSave text: String) -> [String: IPSetContents] {
        var sets: [String: IPSetContents] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3, words[1].hasPrefix("KUBE-") else { continue }
            switch words[0] {
            case "create":
                sets[words[1]] = IPSetContents(type: words[2], entries: [])
            case "add":
                guard let type = sets[words[1]]?.type else { continue }
                var entry = words[2]
                if type.hasSuffix(",net"), let comma = entry.lastIndex(of: ","), !entry[comma...].contains("/"),
                   let host = IPAddress(sloppy: String(entry[entry.index(after: comma)...])) {
                    entry += host.family == .ipv4 ? "/32" : "/128"
                }
                sets[words[1]]?.entries.insert(entry)
            default:
                continue
            }
        }
        return sets
    }
}
