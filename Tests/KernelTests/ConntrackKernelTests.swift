import Foundation
import Testing

/// Stale UDP flows are deleted over ctnetlink, including the cases upstream got wrong: real UDP
/// flows (a fixed source port, so each packet rides the same conntrack entry) whose endpoint or
/// Service goes away while the pods stay up.
@Suite("Kernel: stale UDP conntrack over netlink", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct ConntrackKernelTests {
    static let modes = ["iptables-legacy", "nftables"]
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    /// Entries in the node's conntrack table for UDP to port `port` DNATed to a pod (the reply
    /// tuple, the second `src=`, is a pod's address).
    func flows(_ lab: Lab, to port: Int) -> [String] {
        lab.inNamespace("node", "conntrack -L -p udp --orig-port-dst \(port) 2>/dev/null").output.split(separator: "\n").filter { line in
            let sources = line.components(separatedBy: "src=").dropFirst().map { $0.prefix { $0 != " " } }
            return sources.count == 2 && ["198.18.1.2", "198.18.1.6", "198.18.1.10"].contains(String(sources[1]))
        }.map(String.init)
    }

    @Test("a UDP Service scaled to zero and a deleted UDP Service: the old flow no longer reaches its pod", arguments: modes)
    func scaledToZeroAndDeleted(mode: String) throws {
        let lab = try Lab(prefix: "kc\(Self.modes.firstIndex(of: mode)!)a")
        defer { lab.tearDown() }
        let documents = try Lab.exampleDocuments()
        try lab.writeManifests(documents)
        try lab.startProxy(mode: mode)
        #expect(!lab.proxyLog.contains("using the conntrack tool"), "over netlink")

        let first = lab.probe(from: "client", dst: "198.18.10.12", port: 53, count: 3, udp: true, sport: 40100)
        #expect(Set(first).count == 1 && Self.pods.contains(first[0]), "\(first)")
        #expect(!flows(lab, to: 53).isEmpty)
        // Scaled to zero: the entry must go, or the flow keeps reaching the old pod.
        try lab.writeManifests(documents.removingAllEndpoints(fromSlice: "dns-1"))
        try lab.waitFor("the scaled-to-zero flow to stop reaching its pod") {
            !Self.pods.contains(lab.probe(from: "client", dst: "198.18.10.12", port: 53, udp: true, sport: 40100, timeout: 300).first ?? "")
        }
        #expect(flows(lab, to: 53).isEmpty, "no entry DNATed to a pod is left")

        // Back, a new flow, then the Service deleted.
        try lab.writeManifests(documents)
        try lab.waitFor("dns to answer again") {
            Self.pods.contains(lab.probe(from: "client", dst: "198.18.10.12", port: 53, udp: true, sport: 40101, timeout: 300).first ?? "")
        }
        try lab.writeManifests(documents.removingService("dns"))
        try lab.waitFor("the deleted Service's flow to stop reaching its pod") {
            !Self.pods.contains(lab.probe(from: "client", dst: "198.18.10.12", port: 53, udp: true, sport: 40101, timeout: 300).first ?? "")
        }
        #expect(flows(lab, to: 53).isEmpty, "no entry DNATed to a pod is left")
        #expect(lab.stopProxy() == 0)
    }

    @Test("a NodePort UDP flow from outside moves off a removed endpoint", arguments: modes)
    func nodePort(mode: String) throws {
        let lab = try Lab(prefix: "kc\(Self.modes.firstIndex(of: mode)!)b")
        defer { lab.tearDown() }
        let documents = try Lab.exampleDocuments().makingNodePort("dns", nodePort: 30053)
        try lab.writeManifests(documents)
        try lab.startProxy(mode: mode)
        try DataplaneKernelTests.udpFlowMovesOff(lab, documents, from: "ext", dst: "198.18.2.1", port: 30053, sport: 40102)
        #expect(lab.stopProxy() == 0)
    }
}
