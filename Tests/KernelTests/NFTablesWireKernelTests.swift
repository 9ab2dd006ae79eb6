import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Netlink
import NFTablesRules
import Testing

/// The netlink writer against `nft`: two namespaces, one proxier applying everything with `nft -f`,
/// one through ``NFTablesNetlinkWriter`` (Service chains, rules, affinity sets and elements over
/// netlink, the setup with `nft`). The kernel must hold the same table, expression by expression.
@Suite("Kernel: the nf_tables netlink writer", .serialized, .enabled(if: Lab.unavailableReason == nil, "\(Lab.unavailableReason ?? "")"))
struct NFTablesWireKernelTests {
    typealias Namespace = NFTablesStagesKernelTests.Namespace

    /// `nft --debug=netlink list table`: every rule's expressions and every set's elements as the
    /// kernel dumps them, with rule handles and the order of set elements taken out (and nft's
    /// redundant end marker at 0 in endpoint maps).
    static func expressions(_ ns: Namespace, family: String) -> [String] {
        let out = Lab.shell("ip netns exec \(ns.name) nft --debug=netlink list table \(family) kube-proxy 2>&1").output
        var blocks: [String] = [], current: [String] = []
        func close() {
            if !current.isEmpty { blocks.append(current.joined(separator: "\n")) }
            current = []
        }
        for line in out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("\(family) kube-proxy ") {
                close()
                // "ip kube-proxy chain 12 11": drop the rule's handle and position.
                current.append(line.split(separator: " ").prefix(3).joined(separator: " "))
            } else if line.hasPrefix("\telement 00000000  : 1 [end]"), current.first?.contains(" @cluster-endpoints-") == true
                        || current.first?.contains(" @local-endpoints-") == true {
                continue   // nft's end marker at 0 before a range it adds to an existing endpoint map: matches no key
            } else if line.hasPrefix("\telement ") {
                current.append(line)
                current = [current[0]] + current.dropFirst().sorted()
            } else if line.hasPrefix("table ") {
                break   // the listing in nft syntax follows
            } else if line.isEmpty {
                close()
            } else {
                current.append(line)   // "  [ expression ]", "  userdata = { comment }"
            }
        }
        close()
        return blocks.sorted()
    }

    static func inputs(family: IPFamily = .ipv4, layout: NFTablesLayout = .upstream) throws -> ProxierInputs {
        let config = try #require(try Manifests.load(paths: [Lab.root.appendingPathComponent("examples/config.yaml").path]).configurations.first)
        let manifests = try Manifests.load(paths: [Lab.root.appendingPathComponent("examples/cluster.yaml").path])
        var inputs = ProxierInputs(config: config, manifests: manifests, hostname: "lab-node", hostAddresses: [], features: KernelFeatures())
        inputs.options.common.nftablesLayout = layout
        return inputs
    }

    @Test("the lab's Services over netlink: same table as nft, through a first sync, changes, removals and a resync",
          arguments: NFTablesLayout.allCases)
    func sameTableAsNFT(layout: NFTablesLayout) async throws {
        let inputs = try Self.inputs(layout: layout)
        let tag = "skpw\(getpid())"
        let reference = try Namespace("\(tag)-a"), wire = try Namespace("\(tag)-b")
        defer { reference.delete(); wire.delete() }
        let socket = try NetworkNamespace.run(in: wire.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        let writer = NFTablesNetlinkWriter(nft: NFTCommands(runner: wire.runner), socket: socket)
        // Two Service ports per transaction: the Service chains go in transactions of their own.
        let byNFT = NFTablesProxier(nft: NFTCommands(runner: reference.runner), options: inputs.options, family: .ipv4, servicesPerTransaction: 2)
        let byNetlink = NFTablesProxier(nft: writer, options: inputs.options, family: .ipv4, servicesPerTransaction: 2)

        func syncBoth(_ state: ProxyState, _ what: String) async throws {
            #expect(await byNFT.sync(state).succeeded, "\(what): nft")
            let outcome = await byNetlink.sync(state)
            #expect(outcome.succeeded, "\(what): netlink writer: \(outcome.error ?? "")")
            let (a, b) = (Self.expressions(reference, family: "ip"), Self.expressions(wire, family: "ip"))
            #expect(a.count > 20, "\(what): \(a.count) blocks")
            #expect(NFTablesStagesKernelTests.difference(b, a) == [], "\(what): expressions differ")
            #expect(NFTablesStagesKernelTests.difference(wire.table(), reference.table()) == [], "\(what): nft's listing differs")
        }

        var state = inputs.state
        try await syncBoth(state, "first sync")
        let afterFirst = writer.transactions
        #expect(afterFirst.netlink >= 3, "Service chains over netlink: \(afterFirst)")
        #expect(afterFirst.nft >= 2, "setup with nft: \(afterFirst)")

        // Endpoints move, a sticky Service gains one, one Service loses all: partial syncs.
        let names = state.sortedServicePortNames
        let web = try #require(names.first { $0.name == "web" }), sticky = try #require(names.first { $0.name == "sticky" })
        let dns = try #require(names.first { $0.name == "dns" })
        let lb = try #require(names.first { $0.name == "lb" })
        state.endpoints[web] = (state.endpoints[web] ?? []).dropFirst() + [Endpoint(ip: .v4(0xC612_01F0), port: 8080)]
        state.endpoints[sticky] = (state.endpoints[sticky] ?? []) + [Endpoint(ip: .v4(0xC612_01F1), port: 8080)]
        state.endpoints[dns] = []
        state.endpoints[lb] = (state.endpoints[lb] ?? []).dropLast()   // its firewall chain (an interval set) is written again
        try await syncBoth(state, "endpoints changed")
        // A Service removed: its chains are flushed now and deleted a second later.
        state.services[sticky] = nil
        state.endpoints[sticky] = nil
        try await syncBoth(state, "Service removed")
        try await Task.sleep(for: .milliseconds(1100))
        state.endpoints[dns] = inputs.state.endpoints[dns]
        try await syncBoth(state, "stale chains deleted")
        #expect(writer.transactions.nft == afterFirst.nft, "partial syncs went to nft: \(writer.transactions)")
        #expect(writer.transactions.netlink >= afterFirst.netlink + 3)

        for proxier in [byNFT, byNetlink] { await proxier.forceFullSync() }
        try await syncBoth(inputs.state, "resync")

        if layout == .endpointMaps {
            // A full sync deletes the endpoint maps nothing uses any more (the table's maps are listed with its sets).
            var fewer = inputs.state
            fewer.services[web] = nil
            fewer.endpoints[web] = nil
            await byNetlink.forceFullSync()
            #expect(await byNetlink.sync(fewer).succeeded)
            let maps = Lab.shell("ip netns exec \(wire.name) nft list maps ip").output
            #expect(maps.contains("cluster-endpoints-") && !maps.contains("demo/web/"), "\(maps)")
        }
    }

    @Test("the integrity check's netlink dumps count what nft's listing counts (chains, rules, elements)")
    func summaryOverNetlink() async throws {
        let inputs = try Self.inputs()
        let ns = try Namespace("skpw\(getpid())-s")
        defer { ns.delete() }
        let socket = try NetworkNamespace.run(in: ns.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        let writer = NFTablesNetlinkWriter(nft: NFTCommands(runner: ns.runner), socket: socket)
        let proxier = NFTablesProxier(nft: writer, options: inputs.options, family: .ipv4)
        #expect(await proxier.sync(inputs.state).succeeded)
        let listing = NFTTableSummary.parse(listing: Lab.shell("ip netns exec \(ns.name) nft list table ip kube-proxy").output)
        let viaNFT = NFTTableSummary(rules: listing.rules, elements: listing.elements.filter { !$0.key.hasPrefix("affinity-") })
        let viaNetlink = try await writer.summary(family: "ip", table: "kube-proxy", chains: Set(listing.rules.keys).union(["no-such-chain"]),
                                                  containers: Set(viaNFT.elements.keys).union(["no-such-set"]))
        #expect(viaNetlink.rules.count > 30 && viaNetlink.elements["service-ips"] ?? 0 > 5)
        #expect(viaNetlink.rules["no-such-chain"] ?? 0 == 0, "a chain that is not there counts no rule")
        let differing = Set(viaNetlink.rules.keys).union(viaNFT.rules.keys).subtracting(["no-such-chain"]).filter { viaNetlink.rules[$0] != viaNFT.rules[$0] }
        #expect(differing.isEmpty, "\(differing.sorted().map { "\($0): netlink \(viaNetlink.rules[$0] ?? -1), nft \(viaNFT.rules[$0] ?? -1)" })")
        #expect(viaNetlink.elements == viaNFT.elements, "a set that is not there is left out")
        #expect(await proxier.checkIntegrity())
    }

    @Test("IPv6: the same ip6 table as nft, with affinity, a NodePort, source ranges and a Service without endpoints",
          arguments: NFTablesLayout.allCases)
    func sameTableIPv6(layout: NFTablesLayout) async throws {
        let tag = "skpw6\(getpid())"
        let reference = try Namespace("\(tag)-a"), wire = try Namespace("\(tag)-b")
        defer { reference.delete(); wire.delete() }
        var options = IPTablesCompilerOptions(localDetector: .cidr(CIDR(sloppy: "2001:2:1::/64")!),
                                              nodePortAddresses: NodePortAddresses([], family: .ipv6), features: KernelFeatures())
        options.common.nftablesLayout = layout
        var state = ProxyState(family: .ipv6, nodeName: "lab-node")
        for (index, sticky, nodePort, count) in [(1, false, 0, 3), (2, true, 30_080, 2), (3, false, 0, 0)] {
            let name = ServicePortName(namespace: "demo", name: "svc\(index)", port: "http", protocol: index == 3 ? .udp : .tcp)
            state.services[name] = ServicePortInfo(name: name, clusterIP: IPAddress(sloppy: "2001:2:10::\(index)")!, port: 80, nodePort: nodePort,
                                                   loadBalancerVIPs: index == 1 ? [IPAddress(sloppy: "2001:2:20::1")!] : [],
                                                   loadBalancerSourceRanges: index == 1 ? [CIDR(sloppy: "2001:2:5::/64")!, CIDR(sloppy: "2001:2:6::1/128")!] : [],
                                                   stickyMaxAgeSeconds: sticky ? 600 : nil)
            state.endpoints[name] = (0..<count).map { Endpoint(ip: IPAddress(sloppy: "2001:2:1::\(index * 16 + $0)")!, port: 8080) }
        }
        let socket = try NetworkNamespace.run(in: wire.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        let writer = NFTablesNetlinkWriter(nft: NFTCommands(runner: wire.runner), socket: socket)
        let byNFT = NFTablesProxier(nft: NFTCommands(runner: reference.runner), options: options, family: .ipv6, servicesPerTransaction: 1)
        let byNetlink = NFTablesProxier(nft: writer, options: options, family: .ipv6, servicesPerTransaction: 1)
        for step in 0..<2 {
            #expect(await byNFT.sync(state).succeeded)
            let outcome = await byNetlink.sync(state)
            #expect(outcome.succeeded, "step \(step): \(outcome.error ?? "")")
            let (a, b) = (Self.expressions(reference, family: "ip6"), Self.expressions(wire, family: "ip6"))
            #expect(a.count > 10, "\(a.count) blocks")
            #expect(NFTablesStagesKernelTests.difference(b, a) == [], "step \(step): expressions differ")
            let listing = { (ns: Namespace) in Lab.shell("ip netns exec \(ns.name) nft list table ip6 kube-proxy").output }
            #expect(listing(wire) == listing(reference), "step \(step): nft's listing differs")
            #expect(listing(wire).contains("ip6 saddr != { 2001:2:5::/64, 2001:2:6::1 } drop"))
            // Then: the sticky Service gains an endpoint (a partial sync, all over netlink).
            let sticky = ServicePortName(namespace: "demo", name: "svc2", port: "http", protocol: .tcp)
            state.endpoints[sticky]?.append(Endpoint(ip: IPAddress(sloppy: "2001:2:1::99")!, port: 8080))
        }
        // Full sync: containers and frame through nft, the two Services with chains over netlink; then the partial one.
        #expect(writer.transactions.netlink == 3 && writer.transactions.nft == 2, "\(writer.transactions)")
    }

    @Test("a batch the kernel refuses changes nothing, names the operation, and the next sync is full")
    func refusedBatch() async throws {
        let inputs = try Self.inputs()
        let ns = try Namespace("skpwr\(getpid())")
        defer { ns.delete() }
        let socket = try NetworkNamespace.run(in: ns.name) { try NetlinkSocket(protocol: NFTablesNetlink.netlinkProtocol) }
        let writer = NFTablesNetlinkWriter(nft: NFTCommands(runner: ns.runner), socket: socket)
        let proxier = NFTablesProxier(nft: writer, options: inputs.options, family: .ipv4)
        #expect(await proxier.sync(inputs.state).succeeded)
        let before = Self.expressions(ns, family: "ip")

        var tx = NFTTransaction(family: "ip", table: NFTablesCompiler.table)
        tx.add(.chain(name: "endpoint-new", base: nil, comment: nil))
        tx.add(.rule(chain: "endpoint-new", text: "ip saddr 198.18.1.9 jump mark-for-masquerade"))
        tx.add(.rule(chain: "endpoint-new", text: "goto no-such-chain"))
        let error = try await #require(throws: NFTablesError.self) { try await writer.run(tx) }
        #expect(error.operation == 3 && error.message.contains("goto no-such-chain"), "\(error)")
        #expect(Self.expressions(ns, family: "ip") == before, "nothing of the refused batch stays")

        // A sync whose batch the kernel refuses (the table deleted behind its back) forces a full one.
        _ = Lab.shell("ip netns exec \(ns.name) nft delete table ip kube-proxy")
        var changed = inputs.state
        let web = try #require(changed.sortedServicePortNames.first { $0.name == "web" })
        changed.endpoints[web] = Array((changed.endpoints[web] ?? []).dropFirst())
        let failed = await proxier.sync(changed)
        #expect(!failed.succeeded && failed.error?.contains("operation 1: netlink transaction: message 1") == true, "\(failed.error ?? "")")
        #expect(await proxier.needFullSync)
        let repaired = await proxier.sync(changed)
        #expect(repaired.succeeded && repaired.full)
    }
}
