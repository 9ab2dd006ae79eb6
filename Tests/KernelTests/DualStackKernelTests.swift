import Foundation
import Testing

/// Dual-stack: the lab with IPv6 beside IPv4 (2001:2::/48), a Node with an address of each family,
/// and `run` proxies both: a dual-stack Service answers on its IPv4 and its IPv6 ClusterIP (TCP
/// and UDP), an IPv6-only and an IPv4-only Service each on theirs, a NodePort on the node address
/// of each family; `verify` compares both families. Real traffic, every mode but IPVS (VM).
@Suite("Kernel: dual-stack", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct DualStackKernelTests {
    /// Pod i's IPv6 address (its link is 2001:2:1:i::/64, the node's end ::1).
    static func pod6(_ i: Int) -> String { "2001:2:1:\(i)::2" }

    /// Adds IPv6 to a lab (`lab/lab.sh up6`): addresses on every link (no duplicate detection),
    /// routes, forwarding in the node, and an IPv6 server in each pod (TCP 8080, UDP 5353).
    static func addIPv6(_ lab: Lab) throws {
        let result = Lab.shell("'\(Lab.root.path)/lab/lab.sh' up6 \(lab.prefix) '\(Lab.labBinary)'")
        guard result.status == 0 else { throw LabError(message: "adding IPv6 failed: \(result.output)") }
    }

    static func service(_ name: String, ips: [String], families: [String], nodePort: Int? = nil) -> [String: Any] {
        var ports: [[String: Any]] = [["name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"],
                                      ["name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"]]
        if let nodePort { ports[0]["nodePort"] = nodePort }
        return ["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": "dual", "name": name],
                "spec": ["type": nodePort == nil ? "ClusterIP" : "NodePort", "clusterIP": ips[0], "clusterIPs": ips, "ipFamilies": families,
                         "ipFamilyPolicy": families.count == 2 ? "RequireDualStack" : "SingleStack", "ports": ports]]
    }

    static func slice(_ service: String, _ type: String, _ addresses: [String]) -> [String: Any] {
        ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": type,
         "metadata": ["namespace": "dual", "name": "\(service)-\(type.lowercased())", "labels": ["kubernetes.io/service-name": service]],
         "ports": [["name": "http", "port": 8080, "protocol": "TCP"], ["name": "dns", "port": 5353, "protocol": "UDP"]],
         "endpoints": addresses.map { ["addresses": [$0], "conditions": ["ready": true], "nodeName": "lab-node"] as [String: Any] }]
    }

    static var documents: [[String: Any]] { [
        ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "lab-node"],
         "status": ["addresses": [["type": "InternalIP", "address": "198.18.2.1"], ["type": "InternalIP", "address": "2001:2:2::1"]]]],
        service("both", ips: ["198.18.10.50", "2001:2:10::50"], families: ["IPv4", "IPv6"], nodePort: 30090),
        slice("both", "IPv4", ["198.18.1.2", "198.18.1.6"]),
        slice("both", "IPv6", [pod6(1), pod6(2)]),
        service("six", ips: ["2001:2:10::51"], families: ["IPv6"]),
        slice("six", "IPv6", [pod6(3)]),
        service("four", ips: ["198.18.10.52"], families: ["IPv4"]),
        slice("four", "IPv4", ["198.18.1.10"]),
    ] }

    @Test("both families proxied: dual-stack, IPv6-only and IPv4-only Services, NodePorts of each family; verify compares both",
          arguments: ["iptables-legacy", "iptables-nft", "nftables"])
    func dualStack(mode: String) throws {
        let lab = try Lab(prefix: "kd\(["iptables-legacy", "iptables-nft", "nftables"].firstIndex(of: mode)!)")
        defer { lab.tearDown() }
        try Self.addIPv6(lab)
        try lab.writeManifests(Self.documents)
        let flags = mode == "nftables" ? "--proxy-mode nftables" : "--proxy-mode iptables --iptables-backend \(mode.dropFirst("iptables-".count))"
        try lab.startProxy(flags: "--manifests '\(lab.manifestPath)' \(flags) --cluster-cidr 198.18.1.0/24,2001:2:1::/48")
        #expect(lab.proxyLog.contains("families=IPv4,IPv6"), "\(lab.proxyLog.suffix(2000))")
        func answers(_ dst: String, _ port: Int, from: String = "client", udp: Bool = false) -> Set<String> {
            Set(lab.probe(from: from, dst: dst, port: port, count: 12, udp: udp, timeout: 1000))
        }
        try lab.waitFor("the IPv6 rules") { answers("2001:2:10::51", 80) == ["pod3"] }
        #expect(answers("198.18.10.50", 80) == ["pod1", "pod2"], "dual-stack Service, IPv4 ClusterIP")
        #expect(answers("2001:2:10::50", 80) == ["pod1", "pod2"], "dual-stack Service, IPv6 ClusterIP")
        #expect(answers("2001:2:10::50", 53, udp: true) == ["pod1", "pod2"], "UDP over IPv6")
        #expect(answers("198.18.10.52", 80) == ["pod3"], "IPv4-only Service")
        #expect(answers("2001:2:10::51", 80) == ["pod3"], "IPv6-only Service")
        #expect(answers("198.18.2.1", 30090, from: "ext") == ["pod1", "pod2"], "NodePort on the IPv4 node address")
        #expect(answers("2001:2:2::1", 30090, from: "ext") == ["pod1", "pod2"], "NodePort on the IPv6 node address")
        #expect(answers("2001:2:10::52", 80).allSatisfy { !$0.hasPrefix("pod") }, "no IPv6 address for the IPv4-only Service")
        let verify = lab.verify("\(flags) --cluster-cidr 198.18.1.0/24,2001:2:1::/48")
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("fresh sync of 4 + 4 Service ports"), "\(verify.output)")
        // A stray IPv6 rule is drift, named by family.
        let stray = mode == "nftables" ? "nft add element ip6 kube-proxy cluster-ips { 2001:2:10::99 }"
            : "ip6tables-\(mode.dropFirst("iptables-".count)) -t nat -A KUBE-MARK-MASQ -j RETURN"
        #expect(lab.inNamespace("node", stray).status == 0)
        let drift = lab.verify("\(flags) --cluster-cidr 198.18.1.0/24,2001:2:1::/48")
        #expect(drift.status == 1 && drift.output.contains("IPv6: "), "\(drift.output)")
    }
}
