import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyTesting
import Netlink
import Testing

/// The IPVS adapter through the netlink wire format against FakeIPVSKernel: plan, apply, list
/// back in the kernel's form, and the diff comes out empty.
@Suite("IPVS adapter over netlink (fake kernel)")
struct IPVSKernelTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }

    static func state(endpoints: [String]) -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "lab-node")
        let web = ServicePortName(namespace: "demo", name: "web", port: "http", protocol: .tcp)
        state.services[web] = ServicePortInfo(name: web, clusterIP: ip("198.18.10.10"), port: 80, nodePort: 30080, stickyMaxAgeSeconds: 10800)
        state.endpoints[web] = endpoints.map { Endpoint(ip: ip($0), port: 8080) }
        return state
    }

    @Test("apply the plan, list it back, nothing left to do; an endpoint removed with a live connection drains, then goes")
    func roundTrip() throws {
        let fake = FakeIPVSKernel()
        let kernel = try IPVSKernel(transport: fake)
        #expect(kernel.family == FakeIPVSKernel.familyID)
        let planner = IPVSPlanner(nodePortAddresses: [Self.ip("198.18.2.1")])
        let first = planner.desired(Self.state(endpoints: ["198.18.1.2", "198.18.1.6"])).virtualServers
        try kernel.apply(IPVSDiff.operations(desired: first, current: try kernel.virtualServers(.ipv4)))
        let listed = try kernel.virtualServers(.ipv4)
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { $0.timeout == 10800 && $0.flags == VirtualServer.persistentFlag && $0.realServers.count == 2 })
        #expect(IPVSDiff.operations(desired: first, current: listed).isEmpty)
        #expect(try kernel.virtualServers(.ipv6).isEmpty)

        // pod1 goes while it still has a connection: drained at weight 0, kept until idle.
        fake.setConnections(destination: [198, 18, 1, 2], port: 8080, active: 1, inactive: 0)
        let second = planner.desired(Self.state(endpoints: ["198.18.1.6"])).virtualServers
        try kernel.apply(IPVSDiff.operations(desired: second, current: try kernel.virtualServers(.ipv4)))
        let draining = try kernel.virtualServers(.ipv4)
        #expect(draining.allSatisfy { $0.realServers.map(\.weight).sorted() == [0, 1] })
        fake.setConnections(destination: [198, 18, 1, 2], port: 8080, active: 0, inactive: 0)
        try kernel.apply(IPVSDiff.operations(desired: second, current: try kernel.virtualServers(.ipv4)))
        #expect(try kernel.virtualServers(.ipv4).allSatisfy { $0.realServers.map(\.endpoint) == ["198.18.1.6:8080"] })

        // The Service goes: both virtual servers deleted; flush empties the table.
        try kernel.apply(IPVSDiff.operations(desired: [:], current: try kernel.virtualServers(.ipv4)))
        #expect(fake.serviceCount == 0)
        #expect(throws: NetlinkError.self) { try kernel.apply([.deleteService(first.keys.first!)]) }
    }
}
