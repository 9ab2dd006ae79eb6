import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import KubeProxyTesting
import PacketTracer
import Testing
import Yams

@Suite("Upstream packet-flow fixtures through the tracer")
struct PacketFlowFixtureTests {
    struct Flow {
        var name: String
        var packet: Packet
        var expectedOutput: String
        var expectedMasquerade: Bool
    }

    static func flows(_ fixture: FixtureCase) throws -> [Flow] {
        let list = try Yams.load(yaml: fixture.text("flows.yaml")) as! [[String: Any]]
        return list.map { f in
            Flow(name: f["name"] as! String,
                 packet: Packet(source: IPAddress(sloppy: f["sourceIP"] as! String)!, destination: IPAddress(sloppy: f["destIP"] as! String)!,
                                destinationPort: f["destPort"] as! Int, protocol: L4Protocol(rawValue: (f["protocol"] as! String).uppercased())!),
                 expectedOutput: f["expectedOutput"] as? String ?? "", expectedMasquerade: f["expectedMasquerade"] as! Bool)
        }
    }

    static func check(_ dump: IPTablesDump, _ fixture: FixtureCase, hosts: [IPAddress]) throws {
        let tracer = IPTablesTracer(dump: dump, localAddresses: Set(hosts))
        for flow in try flows(fixture) {
            // Upstream always starts in PREROUTING.
            let result = tracer.trace(flow.packet, fromThisHost: false)
            #expect(result.upstreamOutput == flow.expectedOutput, "\(fixture): \(flow.name)")
            #expect(result.masquerade == flow.expectedMasquerade, "\(fixture): \(flow.name) masquerade")
        }
    }

    @Test("single-state flows", arguments: ["TestClusterIPGeneral", "TestExternalTrafficPolicyCluster", "TestExternalTrafficPolicyLocal",
                                            "TestLoadBalancer", "TestNoEndpointsReject", "TestTracePacket"])
    func singleState(_ name: String) throws {
        let fixture = FixtureCase("packet-flows/\(name)")
        let inputs = try fixture.inputs()
        try Self.check(inputs.kernelView(), fixture, hosts: try fixture.renderArgs().hostAddresses)
    }

    @Test("TestTracePacket's hand-written rules.txt traces the same flows")
    func tracePacketRules() throws {
        let fixture = FixtureCase("packet-flows/TestTracePacket")
        var dump = IPTablesDump()
        try dump.applyRestore(fixture.text("rules.txt"))
        try Self.check(dump, fixture, hosts: try fixture.renderArgs().hostAddresses)
    }

    @Test("TestInternalTrafficPolicy: each subcase syncs the service, then deletes its slice", arguments: [
        "01-internal-traffic-policy-cluster", "02-internal-traffic-policy-local-one-local-endpoint",
        "03-internal-traffic-policy-local-multiple-local-endpoints", "04-internal-traffic-policy-local-no-local-endpoints",
    ])
    func internalTrafficPolicy(_ subcase: String) async throws {
        let kernel = FakeIPTables()
        let first = try FixtureCase("packet-flows/TestInternalTrafficPolicy/\(subcase)/step01").inputs()
        let proxier = IPTablesProxier(iptables: kernel, options: first.options)
        for step in ["step01", "step02"] {
            let fixture = FixtureCase("packet-flows/TestInternalTrafficPolicy/\(subcase)/\(step)")
            let outcome = await proxier.sync(try fixture.inputs().state)
            #expect(outcome.succeeded)
            try Self.check(kernel.dump, fixture, hosts: try fixture.renderArgs().hostAddresses)
        }
    }

    @Test("probabilities and rule counts of a three-endpoint service")
    func candidates() throws {
        let fixture = FixtureCase("packet-flows/TestInternalTrafficPolicy/01-internal-traffic-policy-cluster/step01")
        let inputs = try fixture.inputs()
        let tracer = IPTablesTracer(dump: try inputs.kernelView(), localAddresses: [])
        let svc = try #require(inputs.state.services.values.first)
        let result = tracer.trace(Packet(source: IPAddress(sloppy: "10.0.0.2")!, destination: svc.clusterIP, destinationPort: svc.port))
        #expect(result.verdict == "DNAT")
        #expect(result.candidates.count == 3)
        for c in result.candidates { #expect(abs(c.probability - 1.0 / 3) < 1e-6) }
        // PREROUTING jump, the cluster IP rule, masquerade check + 3 cascade rules, 2 SEP rules, 4 filter chains scanned.
        #expect(result.rulesEvaluated >= 8)
        let miss = tracer.trace(Packet(source: IPAddress(sloppy: "10.0.0.2")!, destination: IPAddress(sloppy: "10.9.9.9")!, destinationPort: 80))
        #expect(miss.verdict == "NONE" && miss.endpoints.isEmpty)
    }
}
