import KubeProxyModel

/// `verify` in IPVS mode: the differences between this node's IPVS state and a fresh sync's,
/// one line each. Real servers of weight 0 in the live table are draining (graceful termination),
/// not drift.
public enum IPVSDrift {
    /// Virtual servers by key: settings (scheduler, flags, persistence) and the serving real servers.
    public static func virtualServers(live: [VirtualServer], expected: [VirtualServer]) -> [String] {
        let liveByKey = Dictionary(live.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let expectedByKey = Dictionary(expected.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var out: [String] = []
        for key in Set(liveByKey.keys).union(expectedByKey.keys).sorted() {
            switch (liveByKey[key], expectedByKey[key]) {
            case (nil, _): out.append("virtual server \(key): missing")
            case (_, nil): out.append("virtual server \(key): not wanted")
            case (let live?, let want?):
                if !live.sameSettings(as: want) {
                    out.append("virtual server \(key): \(settings(live)), wanted \(settings(want))")
                }
                let serving = Set(live.realServers.filter { $0.weight > 0 }.map { "\($0.endpoint)@\($0.weight)" })
                let wanted = Set(want.realServers.map { "\($0.endpoint)@\($0.weight)" })
                for missing in wanted.subtracting(serving).sorted() { out.append("virtual server \(key): real server \(missing) missing") }
                for extra in serving.subtracting(wanted).sorted() { out.append("virtual server \(key): real server \(extra) not wanted") }
            }
        }
        return out
    }

    static func settings(_ server: VirtualServer) -> String {
        "\(server.scheduler) flags \(server.flags & ~VirtualServer.hashedFlag) timeout \(server.timeout)"
    }

    /// kube-proxy's ipsets (`KUBE-*`) from two `ipset save` outputs: each set's type and members.
    /// `family`, when given: only that family's sets (`KUBE-6-*` are IPv6's), so each family of a
    /// dual-stack node is compared with its own fresh sync.
    public static func ipsets(live: String, expected: String, family: IPFamily? = nil) -> [String] {
        func ofFamily(_ sets: [String: (header: String, members: Set<String>)]) -> [String: (header: String, members: Set<String>)] {
            guard let family else { return sets }
            return sets.filter { $0.key.hasPrefix("KUBE-6-") == (family == .ipv6) }
        }
        let (liveSets, expectedSets) = (ofFamily(sets(inSave: live)), ofFamily(sets(inSave: expected)))
        var out: [String] = []
        for name in Set(liveSets.keys).union(expectedSets.keys).sorted() {
            switch (liveSets[name], expectedSets[name]) {
            case (nil, _): out.append("ipset \(name): missing")
            case (_, nil): out.append("ipset \(name): not wanted")
            case (let have?, let want?):
                if have.header != want.header { out.append("ipset \(name): created as `\(have.header)`, wanted `\(want.header)`") }
                for missing in want.members.subtracting(have.members).sorted() { out.append("ipset \(name): \(missing) missing") }
                for extra in have.members.subtracting(want.members).sorted() { out.append("ipset \(name): \(extra) not wanted") }
            }
        }
        return out
    }

    /// Each `KUBE-*` set of `ipset save` output: its `create` line after the name, and its members.
    static func sets(inSave text: String) -> [String: (header: String, members: Set<String>)] {
        var out: [String: (header: String, members: Set<String>)] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2).map(String.init)
            guard words.count >= 2, words[1].hasPrefix("KUBE-") else { continue }
            let rest = words.count > 2 ? words[2] : ""
            if words[0] == "create" { out[words[1], default: ("", [])].header = header(rest) }
            if words[0] == "add" { out[words[1], default: ("", [])].members.insert(rest) }
        }
        return out
    }

    /// A `create` line's settings without what the kernel varies per set (hash size grows with the
    /// members; `initval` is random).
    static func header(_ text: String) -> String {
        var words = text.split(separator: " ").map(String.init), out: [String] = []
        while !words.isEmpty {
            let word = words.removeFirst()
            if ["hashsize", "bucketsize", "initval"].contains(word) { if !words.isEmpty { words.removeFirst() }; continue }
            out.append(word)
        }
        return out.joined(separator: " ")
    }

    /// kube-ipvs0's addresses.
    public static func addresses(live: Set<IPAddress>, expected: Set<IPAddress>) -> [String] {
        expected.subtracting(live).map { "kube-ipvs0: \($0) missing" }.sorted()
            + live.subtracting(expected).map { "kube-ipvs0: \($0) not wanted" }.sorted()
    }
}
