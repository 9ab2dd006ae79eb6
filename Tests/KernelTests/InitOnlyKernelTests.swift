import Foundation
import Testing

/// `run --init-only`, as upstream's: the privileged setup (conntrack sysctls, route_localnet in
/// iptables mode), then exit 0 without writing a rule; in a namespace of its own, whose sysctls
/// are its own (the host's stay as they were: the table size is global and not touched there).
@Suite("Kernel: run --init-only", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct InitOnlyKernelTests {
    @Test("conntrack timeouts from the configuration and route_localnet are set in the namespace; no rule is written; exit 0")
    func initOnly() throws {
        let namespace = "skpinit-\(UInt16.random(in: 0...UInt16.max))"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(namespace)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            _ = Lab.shell("ip netns del \(namespace)")
            try? FileManager.default.removeItem(at: directory)
        }
        let config = directory.appendingPathComponent("config.yaml")
        try """
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            mode: iptables
            conntrack:
              tcpEstablishedTimeout: 2h0m0s
              tcpCloseWaitTimeout: 30m0s
              udpTimeout: 45s
            """.write(to: config, atomically: true, encoding: .utf8)
        let sysctls = ["net/netfilter/nf_conntrack_tcp_timeout_established", "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
                       "net/netfilter/nf_conntrack_udp_timeout", "net/ipv4/conf/all/route_localnet", "net/netfilter/nf_conntrack_max"]
        func read(_ inside: Bool) -> [String] {
            sysctls.map { Lab.shell("\(inside ? "ip netns exec \(namespace) " : "")cat /proc/sys/\($0)").output.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        let hostBefore = read(false)
        #expect(Lab.shell("ip netns add \(namespace)").status == 0)
        let run = Lab.shell("ip netns exec \(namespace) \(Lab.binary) run --init-only --config \(config.path) 2>&1")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("--init-only given: exiting"), "\(run.output)")
        let inside = read(true)
        #expect(Array(inside.prefix(4)) == ["7200", "1800", "45", "1"], "\(inside)")
        #expect(read(false) == hostBefore, "the host's sysctls must not change")
        let rules = Lab.shell("ip netns exec \(namespace) iptables-save 2>/dev/null; ip netns exec \(namespace) iptables-legacy-save 2>/dev/null").output
        #expect(!rules.contains("KUBE-SERVICES"), "--init-only writes no rules: \(rules)")
    }
}
