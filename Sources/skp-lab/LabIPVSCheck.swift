import ArgumentParser
import IPVSRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Netlink

/// `skp-lab ipvs-check`: programs a small plan into this namespace's IPVS over generic netlink, reads
/// it back, checks that nothing is left to do, then removes one endpoint and finally everything.
/// Prints one `ipvs-check:` line per step (the VM harness compares them and `ipvsadm -Ln`).
struct LabIPVSCheck: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ipvs-check",
                                                    abstract: "Round-trip a plan through this kernel's IPVS (generic netlink) and report.")
    @Option(help: "Stop after this step: apply, drain or all.") var until = "all"
    @Option(help: "Scheduler.") var scheduler = "rr"

    static func ip(_ s: String) -> IPAddress { IPAddress(sloppy: s)! }

    static func state(endpoints: [String]) -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "vm")
        let web = ServicePortName(namespace: "demo", name: "web", port: "http", protocol: .tcp)
        state.services[web] = ServicePortInfo(name: web, clusterIP: ip("198.18.10.10"), port: 80)
        state.endpoints[web] = endpoints.map { Endpoint(ip: ip($0), port: 8080) }
        let dns = ServicePortName(namespace: "demo", name: "dns", port: "dns", protocol: .udp)
        state.services[dns] = ServicePortInfo(name: dns, clusterIP: ip("198.18.10.12"), port: 53, stickyMaxAgeSeconds: 600)
        state.endpoints[dns] = [Endpoint(ip: ip("198.18.1.2"), port: 5353)]
        return state
    }

    func run() throws {
        let kernel = try IPVSKernel(transport: try NetlinkSocket())
        print("ipvs-check: family \(kernel.family)")
        let planner = IPVSPlanner(scheduler: scheduler, nodePortAddresses: [])
        let first = planner.desired(Self.state(endpoints: ["198.18.1.2", "198.18.1.6", "198.18.1.10"])).virtualServers
        let ops = IPVSDiff.operations(desired: first, current: try kernel.virtualServers(.ipv4))
        try kernel.apply(ops)
        let listed = try kernel.virtualServers(.ipv4)
        let left = IPVSDiff.operations(desired: first, current: listed)
        print("ipvs-check: applied \(ops.count) operations; listed \(listed.count) services, \(listed.map(\.realServers.count).reduce(0, +)) destinations; left \(left.count)")
        for vs in listed { print("ipvs-check: \(vs.key) \(vs.scheduler) flags \(vs.flags) timeout \(vs.timeout) -> \(vs.realServers.map { "\($0.endpoint)@\($0.weight)" }.joined(separator: " "))") }
        guard until != "apply" else { return }
        let second = planner.desired(Self.state(endpoints: ["198.18.1.6", "198.18.1.10"])).virtualServers
        let drain = IPVSDiff.operations(desired: second, current: try kernel.virtualServers(.ipv4))
        try kernel.apply(drain)
        print("ipvs-check: endpoint removed: \(drain.map(\.description).joined(separator: "; "))")
        guard until != "drain" else { return }
        try kernel.setTimeouts(tcp: 900, tcpFin: 120, udp: 300)
        try kernel.flush()
        print("ipvs-check: flushed; listed \(try kernel.virtualServers(.ipv4).count) services")
    }
}
