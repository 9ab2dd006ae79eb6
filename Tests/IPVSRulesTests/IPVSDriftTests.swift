import IPVSRules
import KubeProxyModel
import Testing

/// `verify` in IPVS mode compares each family of a dual-stack node with its own fresh sync.
@Suite("IPVS drift: ipsets per family")
struct IPVSDriftTests {
    static let v4 = """
        create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
        add KUBE-CLUSTER-IP 198.18.10.1,tcp:80

        """
    static let v6 = """
        create KUBE-6-CLUSTER-IP hash:ip,port family inet6 hashsize 1024 maxelem 65536
        add KUBE-6-CLUSTER-IP 2001:2:10::1,tcp:80

        """

    @Test("each family sees only its own sets (KUBE-6- are IPv6's); without a family every set counts")
    func perFamily() {
        let live = Self.v4 + Self.v6
        #expect(IPVSDrift.ipsets(live: live, expected: Self.v4, family: .ipv4).isEmpty)
        #expect(IPVSDrift.ipsets(live: live, expected: Self.v6, family: .ipv6).isEmpty)
        #expect(IPVSDrift.ipsets(live: live, expected: Self.v4) == ["ipset KUBE-6-CLUSTER-IP: not wanted"])
        #expect(IPVSDrift.ipsets(live: Self.v4, expected: Self.v6, family: .ipv6) == ["ipset KUBE-6-CLUSTER-IP: missing"])
    }
}
