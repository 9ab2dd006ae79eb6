import KubeProxyModel

/// One IP family's ``ProxyState`` kept up to date object by object, as upstream's
/// ServiceChangeTracker and EndpointsChangeTracker do: a change converts that object alone,
/// patches the Service ports and endpoints it touches, and names its Service among the changed
/// ones. The result equals ``ProxyState/build(services:endpointSlices:node:serviceCIDRs:family:nodeName:)``
/// of the same objects (slices merged in name order), at the cost of the change, not of the cluster.
public struct ProxyStateTracker: Sendable {
    public let family: IPFamily
    public let nodeName: String
    /// The state of every object applied so far.
    public private(set) var state: ProxyState
    /// This node's object, when known.
    public private(set) var node: Node?
    /// The Services (`namespace/name`) touched since the last ``takeChangedServices()``.
    public private(set) var changedServices: Set<String> = []
    private var servicePorts: [String: [ServicePortName]] = [:]
    private var slices: [String: EndpointSliceCache.Contribution] = [:]
    private var slicesOfPort: [ServicePortName: Set<String>] = [:]
    private var cidrs: [String: [CIDR]] = [:]

    public init(family: IPFamily, nodeName: String) {
        self.family = family
        self.nodeName = nodeName
        state = ProxyState(family: family, nodeName: nodeName)
    }

    /// Applies `changes`; returns what had to be skipped among the changed objects.
    public mutating func apply(_ changes: ManifestChanges) -> [SkippedObject] {
        var skipped: [SkippedObject] = []
        for (key, service) in changes.services.sorted(by: { $0.key < $1.key }) { skipped += update(serviceKey: key, service) }
        for (key, slice) in changes.endpointSlices.sorted(by: { $0.key < $1.key }) { skipped += update(sliceKey: key, slice) }
        if let change = changes.nodes["default/\(nodeName)"] {
            node = change
            state.nodeLabels = change?.metadata.labels ?? [:]
        }
        if !changes.serviceCIDRs.isEmpty {
            for (key, object) in changes.serviceCIDRs {
                cidrs[key] = object.map { ($0.spec?.cidrs ?? []).compactMap { CIDR(sloppy: $0) }.filter { $0.family == family } }
            }
            state.serviceCIDRs = cidrs.sorted { $0.key < $1.key }.flatMap(\.value)
        }
        return skipped
    }

    /// The Services touched since the last call, which are then forgotten.
    public mutating func takeChangedServices() -> Set<String> {
        defer { changedServices = [] }
        return changedServices
    }

    private mutating func update(serviceKey key: String, _ service: Service?) -> [SkippedObject] {
        changedServices.insert(key)
        for name in servicePorts.removeValue(forKey: key) ?? [] { state.services[name] = nil }
        guard let service else { return [] }
        switch ServiceConversion.ports(of: service, family: family) {
        case .success(let ports):
            for info in ports { state.services[info.name] = info }
            servicePorts[key] = ports.map(\.name)
            return []
        case .failure(let problem):
            return [problem]
        }
    }

    /// Replaces one slice's contribution, then merges again the endpoints of each port it named
    /// before or names now.
    private mutating func update(sliceKey key: String, _ slice: EndpointSlice?) -> [SkippedObject] {
        var touched = Set<ServicePortName>()
        if let old = slices.removeValue(forKey: key) {
            for port in old.ports { touched.insert(port.name); slicesOfPort[port.name]?.remove(key) }
        }
        var skipped: [SkippedObject] = []
        if let slice {
            let contribution = EndpointSliceCache.contribution(of: slice, family: family, nodeName: nodeName)
            skipped = contribution.skipped
            slices[key] = contribution
            for port in contribution.ports { touched.insert(port.name); slicesOfPort[port.name, default: []].insert(key) }
        }
        for name in touched {
            changedServices.insert(name.namespacedName)
            guard let keys = slicesOfPort[name], !keys.isEmpty else {
                slicesOfPort[name] = nil
                state.endpoints[name] = nil
                continue
            }
            let lists = keys.sorted().flatMap { slices[$0]?.ports.filter { $0.name == name }.map(\.endpoints) ?? [] }
            state.endpoints[name] = lists.count == 1 ? lists[0] : EndpointSliceCache.merged(lists.joined())
        }
        return skipped
    }
}
