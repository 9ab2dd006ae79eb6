import Foundation
import Testing

/// Switching modes leaves only the new mode's dataplane: iptables mode, then nftables mode, then
/// iptables mode again (on the other backend), with real traffic and a Service deleted while the
/// proxy was down (its old rules must not answer for it).
@Suite("Kernel: mode switches leave only the current mode", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct ModeSwitchKernelTests {
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    /// kube-proxy's state per mode in the node namespace: iptables rules per backend, nft tables.
    func state(_ lab: Lab) -> (legacy: Int, nft: Int, tables: String) {
        func count(_ tool: String) -> Int {
            lab.inNamespace("node", tool).output.split(separator: "\n")
                .filter { $0.hasPrefix("-A ") && $0.contains("KUBE-") && !$0.contains("KUBE-FIREWALL") }.count
        }
        return (count("iptables-legacy-save"), count("iptables-nft-save"), lab.inNamespace("node", "nft list tables").output)
    }

    @Test("iptables (legacy) -> nftables -> iptables (nft backend): each time only the current mode's rules, and traffic flows")
    func switches() throws {
        let lab = try Lab(prefix: "kms")
        defer { lab.tearDown() }
        var documents = try Lab.exampleDocuments()
        try lab.writeManifests(documents)

        try lab.startProxy(mode: "iptables-legacy")
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 30)) == Self.pods)
        #expect(lab.stopProxy() == 0)
        var now = state(lab)
        #expect(now.legacy > 20 && now.nft == 0 && !now.tables.contains("kube-proxy"), "\(now)")

        // While the proxy is down, the Service `web` is deleted.
        documents.removeAll { ($0["metadata"] as? [String: Any])?["name"] as? String == "web" && $0["kind"] as? String == "Service" }
        try lab.writeManifests(documents)
        try lab.startProxy(mode: "nftables")
        #expect(lab.proxyLog.contains("removed another mode's leftovers"), "\(lab.proxyLog)")
        now = state(lab)
        #expect(now.legacy == 0 && now.nft == 0 && now.tables.contains("table ip kube-proxy"), "\(now)")
        #expect(lab.probe(from: "client", dst: "198.18.10.10", port: 80, timeout: 1000).allSatisfy { !Self.pods.contains($0) },
                "the deleted Service must not answer through iptables mode's old rules")
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.16", port: 80, count: 10)).isSubset(of: Self.pods))
        #expect(lab.stopProxy() == 0)

        try lab.startProxy(mode: "iptables-nft")
        now = state(lab)
        #expect(now.legacy == 0 && now.nft > 20 && !now.tables.contains("kube-proxy"), "\(now)")
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.16", port: 80, count: 10)).isSubset(of: Self.pods))
        #expect(Set(lab.probe(from: "ext", dst: "198.18.2.1", port: 30082, count: 10)) == ["pod1"])
        #expect(lab.stopProxy() == 0)

        // A restart in the same mode removes nothing.
        try lab.startProxy(mode: "iptables-nft")
        #expect(!lab.proxyLog.contains("removed another mode's leftovers"), "\(lab.proxyLog)")
        #expect(lab.stopProxy() == 0)
    }
}
