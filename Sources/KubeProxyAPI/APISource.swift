import Foundation
import KubeProxyModel
import Logging
import ServiceLifecycle
import Synchronization

/// The cluster as the API server shows it: Services, EndpointSlices, this Node and the
/// ServiceCIDRs (when served), each followed by an ``Informer``. A ``ManifestProvider``: its fingerprint changes with every event.
public final class APISource: ManifestProvider, ServiceLifecycle.Service {
    public let services: Informer<KubeProxyModel.Service>
    public let endpointSlices: Informer<EndpointSlice>
    public let nodes: Informer<Node>
    public let serviceCIDRs: Informer<ServiceCIDR>
    public let client: APIClient

    public init(client: APIClient, nodeName: String, settings: InformerSettings = .init(), logger: Logger) {
        self.client = client
        let box = GenerationBox()
        services = Informer(resource: .services, client: client, settings: settings, logger: logger) { box.bump() }
        endpointSlices = Informer(resource: .endpointSlices, client: client, settings: settings, logger: logger) { box.bump() }
        nodes = Informer(resource: .node(nodeName), client: client, settings: settings, logger: logger) { box.bump() }
        serviceCIDRs = Informer(resource: .serviceCIDRs, client: client, settings: settings, optional: true, logger: logger) { box.bump() }
        self.box = box
    }

    private let box: GenerationBox

    /// Runs the informers until cancelled, or until a graceful shutdown of the service group that
    /// runs this source (SIGTERM in `run`).
    public func run() async {
        await cancelWhenGracefulShutdown { await self.runInformers() }
    }

    func runInformers() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.services.run() }
            group.addTask { await self.endpointSlices.run() }
            group.addTask { await self.nodes.run() }
            group.addTask { await self.serviceCIDRs.run() }
        }
    }

    /// Whether Services and EndpointSlices have been listed once (upstream waits for this before
    /// its first sync, so that it never programs an empty cluster over a full one).
    public var hasSynced: Bool { services.hasSynced && endpointSlices.hasSynced && nodes.hasSynced && serviceCIDRs.hasSynced }

    /// Waits until ``hasSynced`` (woken by the informers' changes; a list that finds nothing is one).
    public func waitUntilSynced() async throws {
        let synced = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let watch = try self.watch { synced.continuation.yield() }
        defer { watch.cancel() }
        var changes = synced.stream.makeAsyncIterator()
        while !hasSynced {
            try Task.checkCancellation()
            await withTaskCancellationHandler { _ = await changes.next() } onCancel: { synced.continuation.finish() }
        }
    }

    public var description: String { "API server \(client.config.server)" }
    public func fingerprint() -> [String] { [String(box.value)] }

    public func watch(_ onChange: @escaping @Sendable () -> Void) throws -> any ManifestWatch { box.observe(onChange) }

    /// Each informer's changes since the last call (everything listed, the first time).
    public func changes() throws -> ManifestChanges {
        var changes = ManifestChanges()
        changes.services = services.takeChanges()
        changes.endpointSlices = endpointSlices.takeChanges()
        changes.nodes = nodes.takeChanges()
        changes.serviceCIDRs = serviceCIDRs.takeChanges()
        return changes
    }

    public func load() throws -> Manifests {
        var manifests = Manifests()
        manifests.services = services.objects
        manifests.endpointSlices = endpointSlices.objects
        manifests.nodes = nodes.objects
        manifests.serviceCIDRs = serviceCIDRs.objects
        return manifests
    }
}

/// A counter bumped by every informer change, which calls its observers.
final class GenerationBox: Sendable {
    private let count = Mutex(0)
    private let observers = Mutex<[Int: @Sendable () -> Void]>([:])
    private let nextObserver = Atomic(0)

    func bump() {
        count.withLock { $0 += 1 }
        for observer in observers.withLock({ Array($0.values) }) { observer() }
    }

    var value: Int { count.withLock { $0 } }

    func observe(_ onChange: @escaping @Sendable () -> Void) -> Observation {
        let id = nextObserver.add(1, ordering: .relaxed).newValue
        observers.withLock { $0[id] = onChange }
        return Observation(box: self, id: id)
    }

    /// One observer's registration.
    struct Observation: ManifestWatch {
        let box: GenerationBox
        let id: Int
        func cancel() { _ = box.observers.withLock { $0.removeValue(forKey: id) } }
    }
}
