import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import PacketTracer
import Testing

/// IPVS on a real IPVS kernel: Debian's stock kernel booted under qemu (vm/build.sh, vm/run.sh),
/// the project's binaries inside it. One boot runs both the netlink round trip (`skp-lab ipvs-check`)
/// and the traffic suite (vm/ipvs-suite.sh: the lab around `run --proxy-mode ipvs`); the tests
/// below assert on what the guest printed.
@Suite("Kernel (VM): IPVS mode", .serialized, .enabled(if: IPVSVM.unavailableReason == nil, "\(IPVSVM.unavailableReason ?? "")"))
struct IPVSVMTests {
    static let pods: Set<String> = ["pod1", "pod2", "pod3"]

    @Test("services and destinations round-trip through the guest's IPVS; ipvsadm agrees; removal and flush work")
    func roundTrip() throws {
        let lines = try IPVSVM.boot.get().lines
        #expect(lines.contains("ipvs-check: applied 6 operations; listed 2 services, 4 destinations; left 0"))
        #expect(lines.contains("ipvs-check: TCP 198.18.10.10:80 rr flags 0 timeout 0 -> 198.18.1.2:8080@1 198.18.1.6:8080@1 198.18.1.10:8080@1"))
        #expect(lines.contains("ipvs-check: UDP 198.18.10.12:53 rr flags 1 timeout 600 -> 198.18.1.2:5353@1"))
        #expect(lines.contains("ipvs-check: endpoint removed: delete destination TCP 198.18.10.10:80 -> 198.18.1.2:8080"))
        // ipvsadm, the kernel's own view, after the removal: exactly this table.
        let table = lines.drop { $0 != "VM-STEP ipvsadm" }.dropFirst().prefix { !$0.hasPrefix("ipvs-check:") }
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(Array(table.dropFirst(3)) == [
            "TCP 198.18.10.10:80 rr", "-> 198.18.1.6:8080 Masq 1 0 0", "-> 198.18.1.10:8080 Masq 1 0 0",
            "UDP 198.18.10.12:53 rr persistent 600", "-> 198.18.1.2:5353 Masq 1 0 0",
        ], "\(table)")
        #expect(lines.contains("ipvs-check: flushed; listed 0 services"))
    }

    @Test("run --proxy-mode ipvs: every Service kind answers with real traffic in the guest")
    func everyServiceKind() throws {
        let r = try IPVSVM.boot.get()
        #expect(r.errors.isEmpty, "\(r.errors)")
        // rr over three real servers: 60 connections, exactly 20 each.
        #expect(r.tally("web") == ["pod1": 20, "pod2": 20, "pod3": 20], "\(r.results["web"] ?? [])")
        #expect(Set(r.tally("dns").keys).isSubset(of: Self.pods) && r.tally("dns").values.reduce(0, +) == 30)
        #expect(r.tally("multi-metrics") == ["pod1": 10, "pod2": 10])
        #expect(r.tally("nodeport") == ["pod1": 10, "pod2": 10])
        #expect(r.tally("extip") == ["pod3": 5])
        #expect(r.tally("lb-allowed").values.reduce(0, +) == 10 && Set(r.tally("lb-allowed").keys).isSubset(of: Self.pods))
        #expect(r.tally("lb-denied") == ["timeout": 1], "the source range's firewall drops the other source")
        // ClientIP affinity is IPVS persistence: one client, one pod.
        #expect(r.tally("sticky").count == 1 && r.tally("sticky").values.first == 50)
        // eTP=Local: external clients reach only the node's own endpoint, pods every endpoint.
        #expect(r.tally("local-external") == ["pod1": 20])
        #expect(r.tally("local-cluster").count >= 2)
        #expect(r.tally("empty") == ["refused": 1], "no endpoints: refused")
        #expect(r.tally("node-to-web") == ["pod1": 2, "pod2": 2, "pod3": 2], "from the node itself too")
        #expect(r.results["healthz"]?.joined(separator: " ").contains("\"nodeEligible\": true") == true, "\(r.results["healthz"] ?? [])")
        // kube-ipvs0 stays down and holds the 12 Service addresses (10 ClusterIPs, an external IP, an LB IP).
        #expect(r.results["ipvs0"] == ["state", "DOWN", "12"], "\(r.results["ipvs0"] ?? [])")
        #expect(r.results["ipsets"]?.count == 17 && r.results["ipsets"]?.contains("KUBE-LOOP-BACK") == true, "\(r.results["ipsets"] ?? [])")
        #expect(r.results["clusterip-set"]?.contains("198.18.10.16,tcp:80") == true)
        // As iptables-save prints them back (it moves `! -s` first and spells the marks out).
        #expect(r.iptables.contains(#"-A KUBE-SERVICES ! -s 198.18.1.0/24 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ"#), "\(r.iptables)")
        #expect(r.iptables.contains("-A KUBE-IPVS-OUT-FILTER -s 198.18.30.1/32 -m ipvs --vproto 6 --vaddr 198.18.30.1 --vport 80 -j DROP"),
                "the LB's source range leaves the node out: its own traffic to the LB is dropped")
        #expect(r.iptables.contains("-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"))
        #expect(r.iptables.contains("-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT --reject-with icmp-port-unreachable"))
    }

    @Test("ipvsadm -Ln shows exactly the table the example cluster asks for")
    func kernelTable() throws {
        let r = try IPVSVM.boot.get()
        // Connection counters vary with the probes before: compare up to the weight.
        let table = r.table("initial").map { $0.hasPrefix("->") ? $0.split(separator: " ").prefix(4).joined(separator: " ") : $0 }
        #expect(table.count > 1 && table.first?.hasPrefix("Prot") == false, "\(table)")
        #expect(table == IPVSVM.expectedInitialTable, "\(table)")
    }

    @Test("graceful termination: an open connection survives its endpoint's removal, new ones avoid it, the real server goes when it closes")
    func gracefulTermination() throws {
        let r = try IPVSVM.boot.get()
        let held = try #require(r.results["hold-connected"]?.first)
        #expect(["pod1", "pod2"].contains(held))
        let (heldIP, otherIP) = held == "pod1" ? ("198.18.1.2", "198.18.1.6") : ("198.18.1.6", "198.18.1.2")
        // Drained: weight 0 with its one active connection; the other at weight 1.
        #expect(r.results["drained"] == ["\(otherIP):7070@1/0", "\(heldIP):7070@0/1"].sorted(), "\(r.results["drained"] ?? [])")
        let other = held == "pod1" ? "pod2" : "pod1"
        #expect(r.tally("hold-new") == [other: 6])
        #expect(r.results["hold-after"] == [held], "the open connection still reaches its pod")
        #expect(r.results["drained-gone"] == ["yes", "\(otherIP):7070@1"], "\(r.results["drained-gone"] ?? [])")
    }

    @Test("changes while running, a second scheduler on restart (no weight 0 left behind), and cleanup")
    func changesSchedulerCleanup() throws {
        let r = try IPVSVM.boot.get()
        #expect(r.tally("added") == ["pod2": 3])
        #expect(r.tally("extip-removed") != ["pod3": 1])
        #expect(r.results["extip-vs"] == ["0"] && r.results["extip-bound"] == ["0"])
        #expect(r.tally("web-after").keys.sorted() == ["pod1", "pod2", "pod3"])
        #expect(r.results["proxy-exit"] == ["0"], "SIGTERM: clean exit")
        #expect(r.results["schedulers"] == ["sh"], "\(r.results["schedulers"] ?? [])")
        #expect(r.tally("web-sh").count == 1 && r.tally("web-sh").values.first == 30, "sh: one client, one pod")
        #expect(r.results["left-at-zero"] == ["0"])
        #expect(r.results["weights"] == ["1"], "a wanted real server left at weight 0 is back at 1: \(r.results["weights"] ?? [])")
        #expect(r.results["cleanup-exit"] == ["0"])
        #expect(r.results["after-cleanup"] == ["vs=0", "link=no", "sets=0", "chains=0"], "\(r.results["after-cleanup"] ?? [])")
    }
}

extension IPVSVMTests {
    @Test("trace --proxy-mode ipvs agrees with the guest's traffic: same pods, drops and refusals; trace --live in the guest agrees too")
    func tracerAgrees() throws {
        let r = try IPVSVM.boot.get()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skp-vm-trace-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try IPVSVM.writeSuiteFiles(to: directory)
        let config = try #require(try Manifests.load(paths: [directory.appendingPathComponent("config.yaml").path]).configurations.first)
        let manifests = try Manifests.load(paths: [directory.appendingPathComponent("step0.json").path])
        // The lab node's addresses, as in the guest.
        let node = ["198.18.1.1", "198.18.1.5", "198.18.1.9", "198.18.1.13", "198.18.2.1"].map { IPAddress(sloppy: $0)! }
        let inputs = ProxierInputs(config: config, manifests: manifests, hostname: "lab-node", hostAddresses: node, features: KernelFeatures())
        let plan = inputs.firstSyncIPVS(scheduler: config.resolvedIPVSScheduler, localAddresses: node)
        let tracer = try IPVSTracer(desired: plan.desired, payload: plan.payload, family: .ipv4, localAddresses: Set(node))
        let pods = ["198.18.1.2": "pod1", "198.18.1.6": "pod2", "198.18.1.10": "pod3"]
        let probes: [(String, String, String, Int, L4Protocol)] = [
            ("web", "198.18.1.14", "198.18.10.10", 80, .tcp), ("dns", "198.18.1.14", "198.18.10.12", 53, .udp),
            ("multi-metrics", "198.18.1.14", "198.18.10.11", 9090, .tcp), ("nodeport", "198.18.2.2", "198.18.2.1", 30080, .tcp),
            ("extip", "198.18.2.2", "198.18.20.1", 80, .tcp), ("lb-allowed", "198.18.2.2", "198.18.30.1", 80, .tcp),
            ("lb-denied", "198.18.2.3", "198.18.30.1", 80, .tcp), ("local-external", "198.18.2.2", "198.18.2.1", 30082, .tcp),
            ("local-cluster", "198.18.1.14", "198.18.10.17", 80, .tcp), ("empty", "198.18.1.14", "198.18.10.18", 80, .tcp),
        ]
        for (label, src, dst, port, proto) in probes {
            let traced = tracer.trace(Packet(source: IPAddress(sloppy: src)!, destination: IPAddress(sloppy: dst)!, destinationPort: port, protocol: proto))
            let observed = Set(r.tally(label).keys)
            // `trace --live` in the guest, over the kernel's own IPVS table, ipsets and iptables.
            let live = r.results["trace-live-\(label)"] ?? []
            #expect(live.first == traced.verdict && Set(live.dropFirst()) == Set(traced.endpoints),
                    "\(label): trace --live said \(live), trace \(traced.verdict) \(traced.endpoints); \(r.lines.filter { $0.hasPrefix("VM-TRACE-LIVE-OUTPUT \(label) ") }.prefix(20))")
            switch traced.verdict {
            case "DNAT":
                let expected = Set(traced.endpoints.compactMap { pods[String($0.split(separator: ":")[0])] })
                #expect(observed == expected, "\(label): traced \(traced.endpoints), the guest saw \(observed)")
            case "DROP": #expect(observed == ["timeout"], "\(label): traced DROP, the guest saw \(observed)")
            case "REJECT": #expect(observed == ["refused"], "\(label): traced REJECT, the guest saw \(observed)")
            default: Issue.record("\(label): traced \(traced.verdict)")
            }
        }
    }

    @Test("verify in IPVS mode: no drift after the changes; a stray virtual server is drift")
    func verify() throws {
        let r = try IPVSVM.boot.get()
        let lines = { (name: String) in r.lines.filter { $0.hasPrefix("VM-VERIFY-\(name) ") } }
        #expect(r.results["verify-exit"] == ["0"], "\(lines("verify-exit"))")
        #expect(lines("verify-exit").contains { $0.contains("no drift") })
        #expect(r.results["verify-stray-exit"] == ["1"], "\(lines("verify-stray-exit"))")
        #expect(lines("verify-stray-exit").contains { $0.contains("virtual server TCP 198.18.255.254:1: not wanted") }, "\(lines("verify-stray-exit"))")
    }

    @Test("partial syncs equal full syncs in IPVS mode (random changes, 2 seeds x 15)")
    func partialSyncs() throws {
        let lines = try IPVSVM.boot.get().lines.filter { $0.hasPrefix("VM-PARTIAL ") }
        for seed in [1, 2] {
            #expect(lines.contains("VM-PARTIAL partial-sync: ipvs seed \(seed): 15 of 15 partial syncs, no drift; a stray entry: 1 difference"), "\(lines)")
        }
    }

    @Test("dual-stack in IPVS mode: a dual-stack Service on both ClusterIPs (TCP, UDP), an IPv6-only one, a NodePort on the IPv6 node address")
    func dualStack() throws {
        let r = try IPVSVM.boot.get()
        let log = r.lines.filter { $0.hasPrefix("VM-DUAL-LOG") }.prefix(40).joined(separator: "\n")
        #expect(r.results["dual-families"] == ["families=IPv4,IPv6"], "\(r.results["dual-families"] ?? []) \(log)")
        #expect(r.tally("dual-v4") == ["pod1": 6, "pod2": 6], "\(r.results["dual-v4"] ?? [])")
        #expect(r.tally("dual-v6") == ["pod1": 6, "pod2": 6], "\(r.results["dual-v6"] ?? []) \(log)")
        let udp = r.tally("dual-v6-udp"), nodePort = r.tally("dual-nodeport6")
        #expect(udp.values.reduce(0, +) == 6 && Set(udp.keys).isSubset(of: ["pod1", "pod2"]), "\(udp)")
        #expect(r.tally("dual-six") == ["pod3": 6], "\(r.results["dual-six"] ?? [])")
        #expect(nodePort.values.reduce(0, +) == 6 && Set(nodePort.keys).isSubset(of: ["pod1", "pod2"]), "\(nodePort)")
        #expect(Int(r.results["dual-sets6"]?.first ?? "") ?? 0 > 0, "KUBE-6- ipsets")
        #expect(Int(r.results["dual-vs6"]?.first ?? "") ?? 0 >= 5, "\(r.results["dual-vs6"] ?? [])")
        #expect(r.results["dual-bound6"] == ["2"], "both IPv6 ClusterIPs bound on kube-ipvs0")
        #expect(r.results["dual-verify"] == ["0"], "verify compares each family: \(r.lines.filter { $0.hasPrefix("VM-VERIFY-dual-verify") })")
    }

    @Test("soak in IPVS mode: churn, kill -9 and restart, an external flush; no failed connection outside the flush's repair; verify finds no drift")
    func soak() throws {
        let r = try IPVSVM.boot.get()
        let soak = Dictionary((r.results["soak"] ?? []).compactMap { item -> (String, String)? in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }, uniquingKeysWith: { a, _ in a })
        let failures = r.lines.filter { $0.hasPrefix("VM-SOAK-FAIL") || $0.hasPrefix("VM-SOAK-DIAG") }
        print("IPVS soak in the VM: \(soak.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        #expect(soak["failed"] == "0", "\(failures.prefix(40).joined(separator: "\n"))")
        #expect(Int(soak["tried"] ?? "") ?? 0 > 40, "the guest is emulated: about 125 probes in 2 minutes on an idle machine")
        #expect(soak["repaired-after"] != "-", "traffic came back after the external flush")
        #expect(r.results["soak-verify"] == ["0"], "\(r.lines.filter { $0.hasPrefix("VM-VERIFY-soak-verify") })")
        let (start, restart, end) = (Int(soak["rss-start"] ?? "") ?? 0, Int(soak["rss-restart"] ?? "") ?? 0, Int(soak["rss-end"] ?? "") ?? .max)
        #expect(end <= max(start, restart) * 11 / 10, "RSS grows by at most 10%: \(start), \(restart) -> \(end) KiB")
    }
}

/// Booting the IPVS VM once for the suite, and what it printed.
enum IPVSVM {
    static let unavailableReason: String? = {
        if getuid() != 0 { return "needs root" }
        if Lab.shell("command -v qemu-system-x86_64").status != 0 { return "qemu-system-x86 is not installed (make test installs it)" }
        if Lab.shell("ls /boot/vmlinuz-*").status != 0 { return "no Debian kernel in /boot (make test installs linux-image-amd64)" }
        if ![Lab.binary, Lab.labBinary].allSatisfy(FileManager.default.isExecutableFile(atPath:)) { return "build the binaries first" }
        return nil
    }()

    /// The console of one boot, parsed.
    struct Console {
        var lines: [String]
        var results: [String: [String]] = [:]
        var errors: [String] = []
        var iptables: [String] = []

        init(_ text: String) {
            lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for line in lines {
                let words = line.split(separator: " ").map(String.init)
                if words.first == "VM-RESULT", words.count >= 2 { results[words[1]] = Array(words.dropFirst(2)) }
                if words.first == "VM-ERROR" { errors.append(line) }
                if line.hasPrefix("VM-IPTABLES ") { iptables.append(String(line.dropFirst("VM-IPTABLES ".count))) }
            }
        }

        /// A `tally` result (`pod1=20 pod2=20`) as counts by name.
        func tally(_ name: String) -> [String: Int] {
            Dictionary((results[name] ?? []).compactMap { item -> (String, Int)? in
                let parts = item.split(separator: "=")
                guard parts.count == 2, let n = Int(parts[1]) else { return nil }
                return (String(parts[0]), n)
            }, uniquingKeysWith: +)
        }

        /// The `ipvsadm -Ln` lines between VM-TABLE-BEGIN/END `name`, spaces collapsed.
        func table(_ name: String) -> [String] {
            lines.drop { $0 != "VM-TABLE-BEGIN \(name)" }.dropFirst().prefix { $0 != "VM-TABLE-END \(name)" }
                .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        }
    }

    /// Builds the initramfs with the suite's files and boots it once.
    static let boot: Result<Console, any Error> = Result {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("skp-vm-\(UUID().uuidString.prefix(8))")
        // SKP_VM_KEEP=1 keeps the kernel, initramfs and suite files for booting by hand (vm/run.sh).
        defer { if ProcessInfo.processInfo.environment["SKP_VM_KEEP"] == nil { try? FileManager.default.removeItem(at: out) } }
        let extra = out.appendingPathComponent("extra")
        try FileManager.default.createDirectory(at: extra, withIntermediateDirectories: true)
        try writeSuiteFiles(to: extra)
        let build = Lab.shell("VM_EXTRA='\(extra.path)' '\(Lab.root.path)/vm/build.sh' '\(out.path)' '\(Lab.binary)' '\(Lab.labBinary)'")
        guard build.status == 0 else { throw LabError(message: "vm/build.sh failed: \(build.output)") }
        let run = Lab.shell("'\(Lab.root.path)/vm/run.sh' '\(out.path)' 1200")
        // Kept for reading when an assertion fails.
        try? run.output.write(toFile: FileManager.default.temporaryDirectory.appendingPathComponent("skp-vm-console.log").path, atomically: true, encoding: .utf8)
        guard run.status == 0, run.output.contains("VM-SUITE-DONE") else { throw LabError(message: "the guest did not finish: \(run.output.suffix(4000))") }
        return Console(run.output)
    }

    /// config.yaml (IPVS mode) and the manifest steps of vm/ipvs-suite.sh.
    static func writeSuiteFiles(to directory: URL) throws {
        var config = try String(contentsOf: Lab.root.appendingPathComponent("examples/config.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "mode: iptables", with: "mode: ipvs")
        try config.write(to: directory.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        func write(_ documents: [[String: Any]], _ name: String) throws {
            let data = try JSONSerialization.data(withJSONObject: ["apiVersion": "v1", "kind": "List", "items": documents], options: [.sortedKeys])
            try data.write(to: directory.appendingPathComponent(name))
        }
        let step0 = try Lab.exampleDocuments().addingService("hold", clusterIP: "198.18.10.30", addresses: ["198.18.1.2", "198.18.1.6"], targetPort: 7070)
        try write(step0, "step0.json")
        try write(step0.removingEndpoint("198.18.1.2", fromSlice: "hold-1"), "step1-pod1.json")
        try write(step0.removingEndpoint("198.18.1.6", fromSlice: "hold-1"), "step1-pod2.json")
        try write(step0.addingService("added", clusterIP: "198.18.10.40", addresses: ["198.18.1.6"]).removingService("extip"), "step2.json")
        // The soak's manifests: probed Services soak-0...3 (198.18.10.50-53) lose a different pod
        // in every other variant but keep two; churn-0...3 (198.18.10.60-63) come and go.
        let pods = ["198.18.1.2", "198.18.1.6", "198.18.1.10"]
        for variant in 0..<12 {
            var documents = try Lab.exampleDocuments()
            for k in 0..<4 {
                let gone = (variant + k) % 2 == 0 ? pods[(variant + k) % 3] : nil
                documents = documents.addingService("soak-\(k)", clusterIP: "198.18.10.\(50 + k)", addresses: pods.filter { $0 != gone })
                if (variant >> k) & 1 == 1 { documents = documents.addingService("churn-\(k)", clusterIP: "198.18.10.\(60 + k)", addresses: [pods[k % 3]]) }
            }
            try write(documents, "soak-\(variant).json")
        }
        try write(DualStackKernelTests.documents, "dual.json")
        try (ProcessInfo.processInfo.environment["SKP_VM_SOAK_SECONDS"] ?? "120").write(to: directory.appendingPathComponent("soak-seconds"), atomically: true, encoding: .utf8)
    }

    /// What `ipvsadm -Ln` must list (sorted by protocol, address, port; destinations by address)
    /// for examples/cluster.yaml plus the hold Service, worked out by hand from the manifests.
    static let expectedInitialTable: [String] = {
        let (p1, p2, p3) = ("198.18.1.2:8080", "198.18.1.6:8080", "198.18.1.10:8080")
        var entries: [(String, [String])] = []
        // NodePorts on every node address (nodePortAddresses unset): the four pod-facing veths and eth0.
        for node in ["198.18.1.1", "198.18.1.5", "198.18.1.9", "198.18.1.13", "198.18.2.1"] {
            entries += [("TCP \(node):30080 rr", [p1, p2]),        // nodeport: its slice has pod1, pod2
                        ("TCP \(node):30081 rr", [p1, p2, p3]),    // lb
                        ("TCP \(node):30082 rr", [p1])]            // local: eTP=Local, pod1 is on lab-node
        }
        entries += [
            ("TCP 198.18.10.10:80 rr", [p1, p2, p3]),                  // web: the unready endpoint left out
            ("TCP 198.18.10.11:80 rr", [p1, p2]),                      // multi, both ports
            ("TCP 198.18.10.11:9090 rr", ["198.18.1.2:9090", "198.18.1.6:9090"]),
            ("TCP 198.18.10.13:80 rr", [p1, p2]),                      // nodeport's ClusterIP
            ("TCP 198.18.10.14:80 rr", [p3]),                          // extip
            ("TCP 198.18.10.15:80 rr", [p1, p2, p3]),                  // lb
            ("TCP 198.18.10.16:80 rr persistent 600", [p1, p2, p3]),   // sticky: ClientIP affinity
            ("TCP 198.18.10.17:80 rr", [p1, p2, p3]),                  // local's ClusterIP: every endpoint
            ("TCP 198.18.10.18:80 rr", []),                            // empty
            ("TCP 198.18.10.30:80 rr", ["198.18.1.2:7070", "198.18.1.6:7070"]),   // hold
            ("TCP 198.18.20.1:80 rr", [p3]),                           // extip's external IP
            ("TCP 198.18.30.1:80 rr", [p1, p2, p3]),                   // lb's ingress IP
            ("UDP 198.18.10.12:53 rr", ["198.18.1.2:5353", "198.18.1.6:5353", "198.18.1.10:5353"]),   // dns
        ]
        return entries.flatMap { [$0.0] + $0.1.map { "-> \($0) Masq 1" } }
    }()
}
