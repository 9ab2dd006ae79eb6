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

    /// `Kind namespace/name` for a log line: a name part that is not plain printable ASCII is shown
    /// quoted with escapes, so a hostile name cannot forge or break a log line.
    public static func label(_ kind: String, namespace: String, name: String) -> String {
        func shown(_ part: String) -> String {
            part.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
                ? part : part.debugDescription
        }
        return "\(kind) \(shown(namespace))/\(shown(name))"
    }
}

extension ProxyState {
    /// Builds the state of one IP family from API objects, as kube-proxy's change trackers would.
    ///
    /// Headless and ExternalName Services are ignored as upstream ignores them. An object with a value
    /// that cannot be used is skipped (or, for list entries upstream filters, just that entry), and
    /// reported in `skipped` with its object and field; nothing else is affected.
    ///
    /// The daemon keeps its state object by object instead (``ProxyStateTracker``), which equals this.
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
        for slice in endpointSlices {
            let contribution = EndpointSliceCache.contribution(of: slice, family: family, nodeName: nodeName)
            cache.add(contribution)
            skipped += contribution.skipped
        }
        state.endpoints = cache.endpointsByServicePort()
        state.serviceCIDRs = serviceCIDRs.flatMap { $0.spec?.cidrs ?? [] }
            .compactMap { CIDR(sloppy: $0) }.filter { $0.family == family }
        return (state, skipped)
    }
}
