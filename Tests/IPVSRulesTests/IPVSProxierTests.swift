import IPTablesRules
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import Netlink
import Testing

/// The IPVS-mode proxier against in-memory kernels: IPVS behind the netlink wire format
/// (FakeIPVSKernel), iptables (FakeIPTables), and `ip`/`ipset` (FakeIPVSHost).
@Suite("IPVS proxier on fakes")
struct IPVSProxierTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }
    static let node = ip("198.18.2.1")

    struct Rig {
        let netlink = FakeIPVSKernel()
        let iptables = FakeIPTables()
        let host = FakeIPVSHost()
        let proxier: IPVSProxier
        let ipvs: IPVSKernel

        init(excludeCIDRs: [CIDR] = []) throws {
            ipvs = try IPVSKernel(transport: netlink)
            proxier = IPVSProxier(ipvs: ipvs, iptables: iptables, ipset: IPSetCommands(runner: host), dummy: DummyInterface(runner: host),
                                  options: IPTablesCompilerOptions(nodePortAddresses: NodePortAddresses([], family: .ipv4), nodeIP: IPVSProxierTests.node),
                                  excludeCIDRs: excludeCIDRs, localAddresses: { [IPVSProxierTests.node, IPVSProxierTests.ip("127.0.0.1")] })
        }
    }

    static func state(webEndpoints: [String] = ["198.18.1.2", "198.18.1.6"], withNodePort: Bool = true) -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "lab-node")
        let web = ServicePortName(namespace: "demo", name: "web", port: "http", protocol: .tcp)
        state.services[web] = ServicePortInfo(name: web, clusterIP: ip("198.18.10.10"), port: 80, nodePort: withNodePort ? 30080 : 0,
                                              externalIPs: [ip("198.18.20.1")])
        state.endpoints[web] = webEndpoints.map { Endpoint(ip: ip($0), port: 8080) }
        return state
    }

    @Test("a first sync programs everything: jumps, kube-ipvs0 and its addresses, 17 swapped-in sets, virtual servers, rules")
    func firstSync() async throws {
        let rig = try Rig()
        let outcome = await rig.proxier.sync(Self.state())
        #expect(outcome.succeeded && outcome.full, "\(outcome.error ?? "")")
        #expect(rig.host.addresses(on: "kube-ipvs0") == ["198.18.10.10/32", "198.18.20.1/32"])
        #expect(rig.host.sets.count == 17, "the temporary sets are gone: \(rig.host.sets.keys.sorted())")
        #expect(rig.host.sets["KUBE-CLUSTER-IP"] == ["198.18.10.10,tcp:80"] && rig.host.sets["KUBE-NODE-PORT-TCP"] == ["30080"])
        #expect(rig.host.calls.first { $0.executable == "ipset" }?.stdin?.contains("swap KUBE-TMP-1 KUBE-CLUSTER-IP") == true)
        let listed = try rig.ipvs.virtualServers(.ipv4)
        #expect(listed.map(\.key.description) == ["TCP 198.18.2.1:30080", "TCP 198.18.10.10:80", "TCP 198.18.20.1:80"])
        #expect(listed.allSatisfy { $0.realServers.map(\.endpoint) == ["198.18.1.2:8080", "198.18.1.6:8080"] })
        let nat = try await rig.iptables.save(table: "nat"), filter = try await rig.iptables.save(table: "filter")
        #expect(nat.contains("-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"))
        #expect(filter.contains("-A OUTPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER"))
        #expect(nat.contains("--match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ"))
        #expect(await rig.proxier.checkIntegrity())
    }

    @Test("a later sync changes only what changed: set entries added and deleted, destinations, and reads back only those virtual servers")
    func partialSync() async throws {
        let rig = try Rig()
        await rig.proxier.sync(Self.state())
        // A partial sync re-reads only the virtual servers that changed (three here), not all of them.
        let dumpsBefore = rig.netlink.commands.count
        let unchanged = await rig.proxier.sync(Self.state())
        #expect(unchanged.succeeded && !unchanged.full)
        #expect(rig.netlink.commands[dumpsBefore...].isEmpty, "nothing changed: no netlink request at all")
        let before = rig.host.calls.count
        let requestsBefore = rig.netlink.commands.count
        let outcome = await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.6", "198.18.1.10"], withNodePort: false))
        #expect(outcome.succeeded && !outcome.full)
        let script = rig.host.calls[before...].first { $0.executable == "ipset" }?.stdin ?? ""
        #expect(!script.contains("swap"))
        #expect(script.split(separator: "\n").filter { !$0.hasPrefix("create ") } == ["del KUBE-NODE-PORT-TCP 30080"])
        // The old real server had no connections: deleted at once; the NodePort virtual server goes.
        #expect(await rig.proxier.dataplane.lastOperations.map(\.description) == [
            "add destination TCP 198.18.10.10:80 -> 198.18.1.10:8080 weight 1",
            "delete destination TCP 198.18.10.10:80 -> 198.18.1.2:8080",
            "add destination TCP 198.18.20.1:80 -> 198.18.1.10:8080 weight 1",
            "delete destination TCP 198.18.20.1:80 -> 198.18.1.2:8080",
            "delete service TCP 198.18.2.1:30080",
        ])
        #expect(rig.netlink.commands[requestsBefore...].filter { $0 == IPVS.Command.getDest.rawValue }.count == 3)
        #expect(rig.netlink.commands[requestsBefore...].filter { $0 == IPVS.Command.getService.rawValue }.count == 3)
        #expect(rig.host.addresses(on: "kube-ipvs0") == ["198.18.10.10/32", "198.18.20.1/32"])
    }

    @Test("graceful termination across partial syncs: drained at weight 0 while connected, re-read each sync, deleted once idle")
    func drainAcrossPartialSyncs() async throws {
        let rig = try Rig()
        await rig.proxier.sync(Self.state(withNodePort: false))
        rig.netlink.setConnections(destination: Self.ip("198.18.1.2").bytes, port: 8080, active: 1, inactive: 0)
        #expect(await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.6"], withNodePort: false)).succeeded)
        func weights() throws -> [String] {
            try rig.ipvs.virtualServers(.ipv4).first { $0.key.port == 80 && $0.key.address == Self.ip("198.18.10.10") }!.realServers.map { "\($0.endpoint)@\($0.weight)" }
        }
        #expect(try weights() == ["198.18.1.2:8080@0", "198.18.1.6:8080@1"])
        // Nothing changed, still connected: the draining virtual servers are re-read, nothing done.
        #expect(await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.6"], withNodePort: false)).succeeded)
        #expect(await rig.proxier.dataplane.lastOperations.isEmpty)
        #expect(try weights() == ["198.18.1.2:8080@0", "198.18.1.6:8080@1"])
        // The connection ends: the next sync, still partial, deletes the real server everywhere.
        rig.netlink.setConnections(destination: Self.ip("198.18.1.2").bytes, port: 8080, active: 0, inactive: 0)
        let outcome = await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.6"], withNodePort: false))
        #expect(outcome.succeeded && !outcome.full)
        #expect(try weights() == ["198.18.1.6:8080@1"])
        #expect(await rig.proxier.dataplane.lastOperations.map(\.description) == [
            "delete destination TCP 198.18.10.10:80 -> 198.18.1.2:8080", "delete destination TCP 198.18.20.1:80 -> 198.18.1.2:8080"])
    }

    @Test("an address left by an older run is unbound by the next full listing")
    func staleAddress() async throws {
        let rig = try Rig()
        await rig.proxier.sync(Self.state())
        rig.host.addAddress("198.18.10.99/32", on: "kube-ipvs0")
        await rig.proxier.forceFullSync()
        #expect(await rig.proxier.sync(Self.state()).succeeded)
        #expect(rig.host.addresses(on: "kube-ipvs0") == ["198.18.10.10/32", "198.18.20.1/32"])
    }

    @Test("a failed step leaves the kernel's virtual servers alone and makes the next sync full; excludeCIDRs are never deleted")
    func failureAndExclusions() async throws {
        let rig = try Rig(excludeCIDRs: [CIDR(sloppy: "198.18.40.0/24")!])
        await rig.proxier.sync(Self.state())
        try rig.ipvs.apply([.addService(VirtualServer(key: .init(address: Self.ip("198.18.40.1"), port: 53, protocol: .udp), scheduler: "rr"))])
        rig.host.setFailing("ipset", true)
        let failed = await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.10"]))
        #expect(!failed.succeeded && failed.error?.contains("injected failure") == true)
        #expect(try rig.ipvs.virtualServers(.ipv4).first { $0.key.port == 80 }?.realServers.count == 2, "nothing applied after the failure")
        #expect(await rig.proxier.needFullSync)
        rig.host.setFailing("ipset", false)
        let before = rig.host.calls.count
        let retried = await rig.proxier.sync(Self.state(webEndpoints: ["198.18.1.10"]))
        #expect(retried.succeeded && retried.full)
        #expect(rig.host.calls[before...].first { $0.executable == "ipset" }?.stdin?.contains("swap ") == true, "a full sync rewrites every set")
        #expect(try rig.ipvs.virtualServers(.ipv4).map(\.key.description).contains("UDP 198.18.40.1:53"), "excluded: kept")
    }

    @Test("checkIntegrity: kube-ipvs0 deleted from outside -> false, and the next sync is full and recreates it")
    func integrity() async throws {
        let rig = try Rig()
        await rig.proxier.sync(Self.state())
        _ = try await DummyInterface(runner: rig.host).delete()
        #expect(await rig.proxier.checkIntegrity() == false)
        let outcome = await rig.proxier.sync(Self.state())
        #expect(outcome.full && outcome.succeeded)
        #expect(rig.host.addresses(on: "kube-ipvs0")?.count == 2)
    }

    @Test("checkIntegrity: a deleted virtual server, an address gone from kube-ipvs0, a flushed ipset", arguments: ["virtual server", "address", "ipset"])
    func integrityBeyondTheInterface(damage: String) async throws {
        let rig = try Rig()
        #expect(await rig.proxier.sync(Self.state()).succeeded)
        #expect(await rig.proxier.checkIntegrity())
        switch damage {
        case "virtual server":
            let victim = try #require(try rig.ipvs.virtualServers(.ipv4).first)
            try rig.ipvs.apply([.deleteService(victim.key)])
        case "address": rig.host.removeAddress("198.18.10.10/32", on: "kube-ipvs0")
        default: rig.host.flushSet("KUBE-CLUSTER-IP")
        }
        #expect(await rig.proxier.checkIntegrity() == false, "\(damage) is found")
        let outcome = await rig.proxier.sync(Self.state())
        #expect(outcome.full && outcome.succeeded)
        #expect(try rig.ipvs.virtualServers(.ipv4).count == 3 && rig.host.addresses(on: "kube-ipvs0")?.count == 2)
        #expect(rig.host.sets["KUBE-CLUSTER-IP"] == ["198.18.10.10,tcp:80"])
        #expect(await rig.proxier.checkIntegrity(), "repaired")
    }

    @Test("random changes, partial syncs: the same virtual servers, sets, addresses and rules as a full sync", arguments: [1, 2, 3] as [UInt64])
    func partialEqualsFull(seed: UInt64) async throws {
        func snapshot(_ rig: Rig) throws -> Set<String> {
            let servers = try rig.ipvs.virtualServers(.ipv4).map { "\($0)" }
            let rules = rig.iptables.dump.tables.flatMap { t in t.chains.map { "\(t.name) \($0.name): \($0.rules.map(\.line))" } }
            let sets = rig.host.sets.map { "set \($0.key): \($0.value.sorted())" }
            return Set(servers + rules + sets + ["kube-ipvs0: \(rig.host.addresses(on: "kube-ipvs0")?.sorted() ?? [])"])
        }
        let rig = try Rig()
        var cluster = RandomCluster(seed: seed)
        var state = cluster.initial(nodeName: "lab-node")
        #expect(await rig.proxier.sync(state).succeeded)
        for step in 0..<30 {
            let changes = cluster.change(&state)
            let outcome = await rig.proxier.sync(state)
            #expect(outcome.succeeded && !outcome.full, "seed \(seed) step \(step): \(outcome.error ?? "")")
            let fresh = try Rig()
            #expect(await fresh.proxier.sync(state).succeeded)
            let (got, want) = (try snapshot(rig), try snapshot(fresh))
            #expect(got == want, "seed \(seed) step \(step) after \(changes): only after partial syncs \(got.subtracting(want).sorted()); only after a full one \(want.subtracting(got).sorted())")
            if got != want { break }
        }
    }
}
