import KubeProxyModel

/// A Kubernetes object (or part of one) that a sync had to skip, and why.
public struct SkippedObject: Error, Hashable, Sendable, CustomStringConvertible {
    /// `Kind namespace/name`.
    public var object: String
    /// The field at fault, e.g. `spec.ports[0].protocol`.
    public var field: String
    /// What was wrong with it.
    public var reason: String

    public var description: String { "\(object): \(field): \(reason)" }
}

extension ProxyState {
    /// Builds the state of one IP family from API objects, as kube-proxy's change trackers would.
    ///
    /// Headless and ExternalName Services are ignored as upstream ignores them. An object with a value
    /// that cannot be used is skipped (or, for list entries upstream filters, just that entry), and
    /// reported in `skipped` with its object and field; nothing else is affected.
    public static func build(services: [Service], endpointSlices: [EndpointSlice], node: Node?,
                             serviceCIDRs: [ServiceCIDR] = [], family: IPFamily,
                             nodeName: String) -> (state: ProxyState, skipped: [SkippedObject]) {
        var skipped: [SkippedObject] = []
        var state = ProxyState(family: family, nodeName: nodeName, nodeLabels: node?.metadata.labels ?? [:])
        for service in services {
            switch ServiceConversion.ports(of: service, family: family) {
            case .success(let ports):
                for info in ports { state.services[info.name] = info }
            case .failure(let problem):
                skipped.append(problem)
            }
        }
        var cache = EndpointSliceCache(family: family, nodeName: nodeName)
        for slice in endpointSlices { skipped += cache.add(slice) }
        state.endpoints = cache.endpointsByServicePort()
        state.serviceCIDRs = serviceCIDRs.flatMap { $0.spec?.cidrs ?? [] }
            .compactMap { CIDR(sloppy: $0) }.filter { $0.family == family }
        return (state, skipped)
    }
}
