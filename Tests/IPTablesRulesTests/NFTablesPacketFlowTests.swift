import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import PacketTracer
import Testing

/// The upstream packet flows, again, through the same clusters rendered in nftables mode (upstream's
/// layout and `endpoint-maps`): the dataplanes must send every packet to the same place.
@Suite("Packet flows through the nftables tracer")
struct NFTablesPacketFlowTests {
    @Test("same endpoints, verdicts and masquerading as in iptables mode", arguments: [
        "TestClusterIPGeneral", "TestExternalTrafficPolicyCluster", "TestExternalTrafficPolicyLocal", "TestLoadBalancer", "TestNoEndpointsReject",
    ], NFTablesLayout.allCases)
    func flows(_ name: String, layout: NFTablesLayout) throws {
        let fixture = FixtureCase("packet-flows/\(name)")
        var inputs = try fixture.inputs()
        inputs.options.common.nftablesLayout = layout
        inputs.state.serviceCIDRs = []
        let table = try inputs.firstSyncNFTablesState()
        let tracer = NFTablesTracer(table: table, localAddresses: Set(try fixture.renderArgs().hostAddresses))
        for flow in try PacketFlowFixtureTests.flows(fixture) {
            let result = tracer.trace(flow.packet, fromThisHost: false)
            // nftables mode also rejects traffic to a ClusterIP on a port no Service uses
            // (cluster-ips-check); iptables mode lets it through untouched.
            let isClusterIP = inputs.state.services.values.contains { $0.clusterIP == flow.packet.destination }
            let expected = flow.expectedOutput.isEmpty && isClusterIP ? "REJECT" : flow.expectedOutput
            #expect(result.upstreamOutput == expected, "\(name) \(layout): \(flow.name)")
            if !result.endpoints.isEmpty || ["DROP", "REJECT"].contains(result.verdict) {
                #expect(result.masquerade == flow.expectedMasquerade, "\(name) \(layout): \(flow.name) masquerade")
            }
            #expect(result.rulesEvaluated > 0)
        }
    }
}
