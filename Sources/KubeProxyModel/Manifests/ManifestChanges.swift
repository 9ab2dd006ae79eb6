import Synchronization

/// The objects that changed since the last look, by kind and `namespace/name`: each one as it is
/// now, or nil when it is gone. What informers and the manifest source hand to the change trackers.
public struct ManifestChanges: Sendable {
    public var services: [String: Service?] = [:]
    public var endpointSlices: [String: EndpointSlice?] = [:]
    public var nodes: [String: Node?] = [:]
    public var serviceCIDRs: [String: ServiceCIDR?] = [:]
    /// Documents of the source that had to be skipped (all of them, changed or not).
    public var problems: [ManifestProblem] = []

    public init() {}

    public var isEmpty: Bool { services.isEmpty && endpointSlices.isEmpty && nodes.isEmpty && serviceCIDRs.isEmpty }
    public var count: Int { services.count + endpointSlices.count + nodes.count + serviceCIDRs.count }
}

/// Turns successive whole pictures (``Manifests``) into ``ManifestChanges``, for sources that only
/// have whole pictures (manifest files). Objects are matched by `namespace/name` (the last of a
/// name wins, as the API server would hold one); one with the same `resourceVersion`, or without
/// one and equal, is unchanged.
public final class ManifestDiffer: Sendable {
    struct Picture: Sendable {
        var services: [String: Service] = [:]
        var endpointSlices: [String: EndpointSlice] = [:]
        var nodes: [String: Node] = [:]
        var serviceCIDRs: [String: ServiceCIDR] = [:]
    }
    private let last = Mutex(Picture())

    public init() {}

    /// What changed from the last picture given (from nothing, the first time) to `manifests`.
    public func changes(to manifests: Manifests) -> ManifestChanges {
        var next = Picture()
        for s in manifests.services { next.services[s.metadata.namespacedName] = s }
        for s in manifests.endpointSlices { next.endpointSlices[s.metadata.namespacedName] = s }
        for n in manifests.nodes { next.nodes[n.metadata.namespacedName] = n }
        for c in manifests.serviceCIDRs { next.serviceCIDRs[c.metadata.namespacedName] = c }
        return last.withLock { last in
            var changes = ManifestChanges()
            changes.problems = manifests.problems
            changes.services = Self.diff(last.services, next.services, \.metadata)
            changes.endpointSlices = Self.diff(last.endpointSlices, next.endpointSlices, \.metadata)
            changes.nodes = Self.diff(last.nodes, next.nodes, \.metadata)
            changes.serviceCIDRs = Self.diff(last.serviceCIDRs, next.serviceCIDRs, \.metadata)
            last = next
            return changes
        }
    }

    /// Objects of `new` that are not in `old` as they are, and names of `old` gone from `new`.
    static func diff<Object: Hashable>(_ old: [String: Object], _ new: [String: Object], _ meta: KeyPath<Object, ObjectMeta>) -> [String: Object?] {
        var changed: [String: Object?] = [:]
        for (key, object) in new {
            guard let before = old[key] else { changed[key] = .some(object); continue }
            if let version = object[keyPath: meta].resourceVersion, version == before[keyPath: meta].resourceVersion { continue }
            if before != object { changed[key] = .some(object) }
        }
        for key in old.keys where new[key] == nil { changed[key] = .some(nil) }
        return changed
    }
}
