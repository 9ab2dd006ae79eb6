import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Testing

/// The engine's decisions, the same for every mode, against a dataplane that records what it
/// was asked and fails or reports problems on demand.
@Suite("SyncEngine: full or partial, failures, integrity, conntrack")
struct SyncEngineTests {
    actor RecordingDataplane: Dataplane {
        var scopes: [SyncScope] = []
        var failNext = false
        var problems: [String] = []
        var remembers = true
        var askedSinceLastSync: [Bool] = []

        func apply(_ state: ProxyState, scope: SyncScope, steps: SyncSteps) async throws -> DataplaneSync {
            scopes.append(scope)
            if failNext { failNext = false; throw Failure() }
            var steps = steps
            steps.lap("write")
            return DataplaneSync(steps: steps, details: ["written": "1"])
        }
        var canSyncPartially: Bool { remembers }
        func integrityProblems(sinceLastSync: Bool) async -> [String] { askedSinceLastSync.append(sinceLastSync); return problems }
        func report() -> ProxierReport { ProxierReport() }
        func set(failNext: Bool = false, problems: [String] = [], remembers: Bool = true) {
            self.failNext = failNext
            self.problems = problems
            self.remembers = remembers
        }
        struct Failure: Error {}
    }

    final class RecordingConntrack: ConntrackCleaner, @unchecked Sendable {
        var calls: [[ConntrackDeletion]] = []
        func delete(_ deletions: [ConntrackDeletion], family: IPFamily) async -> Int { calls.append(deletions); return deletions.count }
    }

    static let state = SyntheticCluster.state(services: 3, endpoints: 2)

    @Test("first sync full; then partial with the changed Services; node labels or a forgotten kernel make it full")
    func scopes() async {
        let plane = RecordingDataplane()
        let engine = SyncEngine(dataplane: plane, conntrack: nil, logger: .init(label: "test"))
        #expect(await engine.sync(Self.state).full)
        let changed = SyntheticCluster.changingOneEndpoint(Self.state, index: 1)
        #expect(await !engine.sync(changed).full)
        var labelled = changed
        labelled.nodeLabels = ["topology.kubernetes.io/zone": "a"]
        #expect(await engine.sync(labelled).full, "topology hints depend on the node's labels")
        await plane.set(remembers: false)
        #expect(await engine.sync(labelled).full, "the dataplane forgot what the kernel holds")
        #expect(await plane.scopes == [.full, .partial(changedServices: ["bench/svc-00001"]), .full, .full])
        #expect(await engine.fullSyncs == 3)
        #expect(await engine.partialSyncs == 1)
        #expect(await engine.lastSteps.description.contains("write="))
    }

    @Test("a failed apply keeps the last state, counts, and makes the next sync full")
    func failure() async {
        let plane = RecordingDataplane()
        let engine = SyncEngine(dataplane: plane, conntrack: nil, logger: .init(label: "test"))
        await engine.sync(Self.state)
        await plane.set(failNext: true)
        let changed = SyntheticCluster.changingOneEndpoint(Self.state)
        let failed = await engine.sync(changed)
        #expect(!failed.succeeded && !failed.full && failed.error != nil)
        #expect(await engine.failures == 1)
        #expect(await engine.needFullSync)
        #expect(await engine.lastApplied == Self.state)
        #expect(await engine.sync(changed).full)
        #expect(await !engine.needFullSync)
        #expect(await engine.lastApplied == changed)
    }

    @Test("integrity: problems make the check fail and the next sync full; a deep check only after a successful sync")
    func integrity() async {
        let plane = RecordingDataplane()
        let engine = SyncEngine(dataplane: plane, conntrack: nil, logger: .init(label: "test"))
        #expect(await engine.checkIntegrity())
        await engine.sync(Self.state)
        #expect(await engine.checkIntegrity())
        await plane.set(problems: ["a chain is gone"])
        #expect(await !engine.checkIntegrity())
        #expect(await engine.needFullSync)
        #expect(await engine.checkIntegrity() == false)
        #expect(await plane.askedSinceLastSync == [false, true, true, false])
        await plane.set()
        #expect(await engine.sync(Self.state).full)
    }

    @Test("stale UDP conntrack entries are deleted after a successful sync, and counted")
    func conntrack() async {
        let plane = RecordingDataplane()
        let cleaner = RecordingConntrack()
        let engine = SyncEngine(dataplane: plane, conntrack: cleaner, logger: .init(label: "test"))
        var udp = ProxyState(family: .ipv4, nodeName: "n")
        let name = ServicePortName(namespace: "ns", name: "dns", port: "dns", protocol: .udp)
        udp.services[name] = ServicePortInfo(name: name, clusterIP: SyntheticCluster.clusterIP(9), port: 53)
        await engine.sync(udp)
        #expect(cleaner.calls.isEmpty, "no endpoint yet: nothing to delete")
        udp.endpoints[name] = [Endpoint(ip: .v4(0xC613_0001), port: 5353)]
        await engine.sync(udp)
        #expect(cleaner.calls.count == 1 && cleaner.calls[0].count == 1, "the first endpoint: entries made while nothing answered go")
        #expect(await engine.conntrackDeletions == 1)
    }
}
