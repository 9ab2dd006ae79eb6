import Foundation
import KubeProxyModel
import Logging
import Synchronization

/// The cluster as the API server shows it: Services, EndpointSlices, this Node and the
/// ServiceCIDRs (when served), each followed by an ``Informer``. A ``ManifestProvider``: its fingerprint changes with every event.
public final class APISource: ManifestProvider {
    public let services: Informer<Service>
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

    /// Runs the informers until cancelled.
    public func run() async {
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

    /// Waits until ``hasSynced``.
    public func waitUntilSynced(poll: Duration = .milliseconds(20)) async throws {
        while !hasSynced { try await Task.sleep(for: poll) }
    }

    public var description: String { "API server \(client.config.server)" }
    public func fingerprint() -> [String] { [String(box.value)] }

    public func load() throws -> Manifests {
        var manifests = Manifests()
        manifests.services = services.objects
        manifests.endpointSlices = endpointSlices.objects
        manifests.nodes = nodes.objects
        manifests.serviceCIDRs = serviceCIDRs.objects
        return manifests
    }
}

/// A counter bumped by every informer change.
final class GenerationBox: Sendable {
    private let count = Mutex(0)
    func bump() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
