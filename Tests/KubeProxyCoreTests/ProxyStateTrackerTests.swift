import Foundation
import KubeProxyCore
import KubeProxyModel
import KubeProxyTesting
import Testing

/// The change tracker against the whole build: after every random change (Services redrawn or
/// deleted, slices split, moved, emptied or broken, the node relabelled, ServiceCIDRs), the tracked
/// state equals a build of all the objects, and the Services it names as changed cover every
/// Service whose ports or endpoints differ.
@Suite("ProxyStateTracker: object by object equals the whole build")
struct ProxyStateTrackerTests {
    struct World {
        var random: RandomCluster.Generator
        var services: [String: [String: Any]] = [:]
        var slices: [String: [String: Any]] = [:]
        var labels: [String: String] = [:]
        var cidrs: [String: [String]] = [:]

        mutating func bool(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &random) == 0 }

        mutating func redrawService(_ s: Int) {
            let ports: [[String: Any]] = ["http", "dns", "alt"].prefix(Int.random(in: 1...2, using: &random)).enumerated().map { i, name in
                ["name": name, "port": 80 + i, "protocol": name == "dns" ? "UDP" : (bool(15) ? "ICMP" : "TCP")]
            }
            var spec: [String: Any] = ["clusterIP": "198.18.10.\(s)", "ports": ports]
            if bool(4) { spec["type"] = "NodePort" }
            if bool(5) { spec["internalTrafficPolicy"] = "Local" }
            services["svc\(s)"] = ["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": "t", "name": "svc\(s)"], "spec": spec]
        }

        mutating func redrawSlice(_ s: Int, part: Int) {
            let owner = bool(8) ? (s + 1) % 6 : s   // now and then a slice names another Service
            let endpoints: [[String: Any]] = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                let address = bool(20) ? "not-an-ip" : "198.18.1.\(Int.random(in: 1...6, using: &random))"
                return ["addresses": [address], "nodeName": bool(2) ? "n" : "other",
                        "conditions": ["ready": !bool(3), "serving": true, "terminating": bool(4)]]
            }
            slices["svc\(s)-\(part)"] = ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                                         "metadata": ["namespace": "t", "name": "svc\(s)-\(part)", "labels": ["kubernetes.io/service-name": "svc\(owner)"]],
                                         "ports": [["name": "http", "port": 8080, "protocol": "TCP"], ["name": "dns", "port": 5353, "protocol": "UDP"]],
                                         "endpoints": endpoints]
        }

        mutating func change() {
            let s = Int.random(in: 0..<6, using: &random)
            switch Int.random(in: 0..<9, using: &random) {
            case 0: services["svc\(s)"] = nil
            case 1: slices["svc\(s)-\(Int.random(in: 0...1, using: &random))"] = nil
            case 2: labels = bool(2) ? [:] : ["topology.kubernetes.io/zone": "z\(s)"]
            case 3: cidrs["c\(s % 2)"] = bool(3) ? nil : ["198.18.\(s).0/24", "2001:2::/64"]
            case 4, 5: redrawService(s)
            default: redrawSlice(s, part: Int.random(in: 0...1, using: &random))
            }
        }

        func manifests() throws -> Manifests {
            var items: [[String: Any]] = services.keys.sorted().map { services[$0]! } + slices.keys.sorted().map { slices[$0]! }
            items.append(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n", "labels": labels]])
            items += cidrs.keys.sorted().map { ["apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR", "metadata": ["name": $0], "spec": ["cidrs": cidrs[$0]!]] }
            let list: [String: Any] = ["apiVersion": "v1", "kind": "List", "items": items]
            var manifests = Manifests()
            try manifests.decode(String(decoding: try JSONSerialization.data(withJSONObject: list), as: UTF8.self), source: "world")
            return manifests
        }
    }

    @Test("random changes, 4 seeds x 60 steps: tracked state == build, changed Services cover the difference", arguments: [1, 2, 3, 4] as [UInt64])
    func equalsBuild(seed: UInt64) throws {
        var world = World(random: .init(seed: seed))
        for s in 0..<6 { world.redrawService(s); world.redrawSlice(s, part: 0) }
        let differ = ManifestDiffer()
        var tracker = ProxyStateTracker(family: .ipv4, nodeName: "n")
        var previous: ProxyState?
        var seen = (ports: 0, endpoints: 0, labelled: 0, cidrs: 0)
        for step in 0..<60 {
            let manifests = try world.manifests()
            let changes = differ.changes(to: manifests)
            _ = tracker.apply(changes)
            let built = ProxyState.build(services: manifests.services, endpointSlices: manifests.endpointSlices, node: manifests.nodes.first,
                                         serviceCIDRs: manifests.serviceCIDRs, family: .ipv4, nodeName: "n").state
            #expect(tracker.state == built, "seed \(seed) step \(step)")
            seen.ports += built.services.count
            seen.endpoints += built.endpoints.values.reduce(0) { $0 + $1.count }
            seen.labelled += built.nodeLabels.isEmpty ? 0 : 1
            seen.cidrs += built.serviceCIDRs.count
            let changed = tracker.takeChangedServices()
            if let previous { #expect(built.changedServices(since: previous).isSubset(of: changed), "seed \(seed) step \(step)") }
            #expect(changed.count <= changes.count * 2, "a change names its own Services only")
            previous = built
            world.change()
        }
        #expect(seen.ports > 100 && seen.endpoints > 100 && seen.labelled > 0 && seen.cidrs > 0, "the run exercised every kind: \(seen)")
    }

    @Test("the differ: unchanged objects are not changes; a deleted one is nil; a new resourceVersion is a change")
    func differ() throws {
        var manifests = Manifests()
        try manifests.decode("""
            apiVersion: v1
            kind: Service
            metadata: {namespace: a, name: web, resourceVersion: "1"}
            spec: {clusterIP: 198.18.10.1, ports: [{port: 80}]}
            """, source: "t")
        let differ = ManifestDiffer()
        #expect(differ.changes(to: manifests).services.keys.sorted() == ["a/web"])
        #expect(differ.changes(to: manifests).isEmpty)
        manifests.services[0].metadata.resourceVersion = "2"
        #expect(differ.changes(to: manifests).services.keys.sorted() == ["a/web"])
        let gone = differ.changes(to: Manifests())
        #expect(gone.services.count == 1 && gone.services["a/web"] == .some(nil))
    }
}
