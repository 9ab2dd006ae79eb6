import Foundation
import Testing

/// Real traffic through rules that `swift-kube-proxy run` programs in a lab of network namespaces:
/// iptables mode on both iptables backends (and the dispatch tree), nftables mode in upstream's
/// layout and in the `endpoint-maps` layout. Addresses are the lab's (see
/// lab/lab.sh and examples/cluster.yaml).
@Suite("Kernel: every mode with real traffic", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct DataplaneKernelTests {
    static let modes = ["iptables-legacy", "iptables-nft", "iptables-tree", "nftables", "nftables-maps"]
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    @Test("every Service kind answers as the manifests say", arguments: modes)
    func everyServiceKind(mode: String) throws {
        let lab = try Lab(prefix: "k\(Self.modes.firstIndex(of: mode)!)a")
        defer { lab.tearDown() }
        try lab.writeManifests(Lab.exampleDocuments())
        try lab.startProxy(mode: mode)

        // ClusterIP TCP: only ready endpoints (the unready one would time out), spread over all three.
        let web = lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 60)
        #expect(Set(web) == Self.pods, "web answered \(web)")
        // Hairpin: a pod reaching itself through its Service is masqueraded (else its own address
        // comes back to it as a source, and the kernel drops the reply as martian).
        let hairpin = lab.probe(from: "pod1", dst: "198.18.10.10", port: 80, count: 40)
        #expect(hairpin.contains("pod1") && hairpin.allSatisfy(Self.pods.contains), "pod1 to web answered \(hairpin)")
        // ClusterIP UDP.
        let dns = lab.probe(from: "client", dst: "198.18.10.12", port: 53, count: 30, udp: true)
        #expect(Set(dns).isSubset(of: Self.pods) && Set(dns).count >= 2, "dns answered \(dns)")
        // Multi-port: the second port reaches the same two pods.
        let metrics = lab.probe(from: "client", dst: "198.18.10.11", port: 9090, count: 20)
        #expect(Set(metrics).isSubset(of: ["pod1", "pod2"]) && metrics.count == 20, "multi:9090 answered \(metrics)")
        // NodePort on the node's address, from outside.
        let nodePort = lab.probe(from: "ext", dst: "198.18.2.1", port: 30080, count: 20)
        #expect(Set(nodePort).isSubset(of: ["pod1", "pod2"]) && nodePort.count == 20, "nodeport answered \(nodePort)")
        // External IP.
        #expect(lab.probe(from: "ext", dst: "198.18.20.1", port: 80, count: 5) == Array(repeating: "pod3", count: 5))
        // LoadBalancer IP with loadBalancerSourceRanges: the allowed source connects, the other is dropped.
        let allowed = lab.probe(from: "ext", dst: "198.18.30.1", port: 80, count: 10, src: "198.18.2.2")
        #expect(Set(allowed).isSubset(of: Self.pods) && allowed.count == 10, "lb from allowed source answered \(allowed)")
        #expect(lab.probe(from: "ext", dst: "198.18.30.1", port: 80, src: "198.18.2.3", timeout: 1500) == ["timeout"])
        // ClientIP affinity: 50 connections from one client reach one pod.
        let sticky = lab.probe(from: "client", dst: "198.18.10.16", port: 80, count: 50)
        #expect(Set(sticky).count == 1 && Self.pods.contains(sticky[0]), "sticky answered \(Set(sticky))")
        // externalTrafficPolicy Local: external clients reach only the endpoint on this node ...
        #expect(Set(lab.probe(from: "ext", dst: "198.18.2.1", port: 30082, count: 20)) == ["pod1"])
        // ... while pods still use every endpoint (the short-circuit to KUBE-SVC).
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.17", port: 80, count: 40)).count >= 2)
        // No endpoints: refused (ICMP port unreachable from the REJECT rule), not a timeout.
        #expect(lab.probe(from: "client", dst: "198.18.10.18", port: 80, timeout: 4000) == ["refused"])
        // SIGTERM leaves the rules in place and exits 0.
        #expect(lab.stopProxy() == 0)
        #expect(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 5).allSatisfy(Self.pods.contains))
        // cleanup removes every kube-proxy chain, rule and table (kubelet's KUBE-FIREWALL stays, as upstream).
        let cleanup = lab.inNamespace("node", "'\(Lab.binary)' cleanup")
        #expect(cleanup.status == 0, "\(cleanup.output)")
        let save = lab.inNamespace("node", "iptables-legacy-save; iptables-nft-save; nft list tables").output
        let leftover = save.split(separator: "\n").filter { ($0.contains("KUBE-") && !$0.contains("KUBE-FIREWALL")) || $0.contains("kube-proxy") }
        #expect(leftover.isEmpty, "left behind: \(leftover)")
        #expect(lab.probe(from: "client", dst: "198.18.10.10", port: 80, timeout: 300) != ["pod1"])
    }

    @Test("changes while running: endpoints and Services come and go, untouched Services never fail", arguments: modes)
    func changesWhileRunning(mode: String) throws {
        let lab = try Lab(prefix: "k\(Self.modes.firstIndex(of: mode)!)b")
        defer { lab.tearDown() }
        let documents = try Lab.exampleDocuments()
        try lab.writeManifests(documents)
        try lab.startProxy(mode: mode)
        #expect(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 30).contains("pod3"))

        // Untouched service probed continuously in the background during all changes.
        let stop = Flag()
        let untouched = Results()
        let watcher = Thread {
            while !stop.isSet { untouched.append(lab.probe(from: "client", dst: "198.18.10.11", port: 80, count: 5, timeout: 2000)) }
        }
        watcher.start()

        // Remove pod3 from web: within one sync, new connections stop reaching it.
        var changed = documents.removingEndpoint("198.18.1.10", fromSlice: "web-1")
        try lab.writeManifests(changed)
        try lab.waitFor("pod3 to leave web") { !lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 20).contains("pod3") }
        #expect(Set(lab.probe(from: "client", dst: "198.18.10.10", port: 80, count: 60)) == ["pod1", "pod2"])
        #expect(lab.proxyLog.contains("full=false"), "later syncs are partial")
        if mode == "iptables-tree" {
            let nat = lab.inNamespace("node", "iptables-legacy-save -t nat").output
            #expect(nat.contains(":KUBE-DST-"), "the dispatch tree is in the kernel")
        }
        if mode == "nftables" {
            // The table is one nft transaction away: check it holds the verdict maps upstream writes.
            let table = lab.inNamespace("node", "nft list table ip kube-proxy").output
            #expect(table.contains("map service-ips") && table.contains("numgen random mod 2 vmap"))
        }
        if mode == "nftables-maps" {
            // Endpoints are map elements: web's map holds the two left, and no endpoint chain exists
            // but the sticky Service's (affinity keeps upstream's chains).
            let table = lab.inNamespace("node", "nft list table ip kube-proxy").output
            #expect(table.contains("dnat ip to numgen random mod 65536 map @cluster-endpoints-"))
            #expect(table.contains("0-32767 : 198.18.1.2 . 8080, 32768-65535 : 198.18.1.6 . 8080"), "web's endpoint map")
            let endpointChains = table.split(separator: "\n").filter { $0.contains("chain endpoint-") }
            #expect(!endpointChains.isEmpty && endpointChains.allSatisfy { $0.contains("demo/sticky/") }, "\(endpointChains)")
        }

        // Add a Service, then remove another.
        changed = changed.addingService("added", clusterIP: "198.18.10.40", addresses: ["198.18.1.6"])
        try lab.writeManifests(changed)
        try lab.waitFor("the added Service") { lab.probe(from: "client", dst: "198.18.10.40", port: 80, timeout: 300) == ["pod2"] }
        changed = changed.removingService("extip")
        try lab.writeManifests(changed)
        try lab.waitFor("extip to go away") { lab.probe(from: "ext", dst: "198.18.20.1", port: 80, timeout: 300) != ["pod3"] }

        // A document with a bad value is skipped alone; everything else keeps working.
        var bad = changed
        bad.append(["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": "demo", "name": "broken"],
                    "spec": ["clusterIP": "198.18.10.41", "ports": [["name": "x", "protocol": "QUIC", "port": 80]]]])
        try lab.writeManifests(bad)
        try lab.waitFor("the bad object to be reported") { lab.proxyLog.contains("spec.ports[0].protocol") }
        #expect(lab.probe(from: "client", dst: "198.18.10.40", port: 80, count: 5) == Array(repeating: "pod2", count: 5))

        stop.set()
        while watcher.isExecuting { Thread.sleep(forTimeInterval: 0.05) }
        let outcomes = untouched.all
        #expect(!outcomes.isEmpty)
        #expect(outcomes.allSatisfy { $0 == "pod1" || $0 == "pod2" }, "untouched service failed: \(outcomes.filter { $0 != "pod1" && $0 != "pod2" })")
    }

    @Test("a UDP client that keeps its source port reaches a new endpoint once its own is removed", arguments: modes)
    func staleUDPConntrack(mode: String) throws {
        let lab = try Lab(prefix: "k\(Self.modes.firstIndex(of: mode)!)c")
        defer { lab.tearDown() }
        let documents = try Lab.exampleDocuments()
        try lab.writeManifests(documents)
        try lab.startProxy(mode: mode)
        try Self.udpFlowMovesOff(lab, documents, from: "client", dst: "198.18.10.12", port: 53, sport: 40053)
    }

    /// A UDP flow (fixed source port) from `from` sticks to one pod of dns; once that pod's
    /// endpoint is removed from the manifests, the same flow reaches another pod.
    static func udpFlowMovesOff(_ lab: Lab, _ documents: [[String: Any]], from: String, dst: String, port: Int, sport: Int) throws {
        let first = lab.probe(from: from, dst: dst, port: port, count: 3, udp: true, sport: sport)
        #expect(Set(first).count == 1 && pods.contains(first[0]), "one flow sticks to one pod: \(first)")
        guard let stuck = first.first, let address = ["pod1": "198.18.1.2", "pod2": "198.18.1.6", "pod3": "198.18.1.10"][stuck] else { return }
        try lab.writeManifests(documents.removingEndpoint(address, fromSlice: "dns-1"))
        try lab.waitFor("the flow to move to another pod") {
            let next = lab.probe(from: from, dst: dst, port: port, udp: true, sport: sport, timeout: 300)
            return next.count == 1 && next[0] != stuck && pods.contains(next[0])
        }
    }
}

/// A flag set once from one thread and read from another.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Outcomes collected from a background thread.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    var all: [String] { lock.withLock { items } }
    func append(_ more: [String]) { lock.withLock { items += more } }
}
