import KubeProxyModel

/// Merges EndpointSlices into per-Service-port endpoint lists, as upstream's `EndpointSliceCache`:
/// endpoints are deduplicated by `ip:port` (a non-terminating one wins) and sorted as strings.
public struct EndpointSliceCache: Sendable {
    public let family: IPFamily
    public let nodeName: String
    /// Per Service port, the (merged, sorted) endpoints of each slice that names it.
    private var byPort: [ServicePortName: [[Endpoint]]] = [:]

    public init(family: IPFamily, nodeName: String) {
        self.family = family
        self.nodeName = nodeName
    }

    /// What one slice contributes: its endpoints per Service port, and the parts it had to skip.
    public struct Contribution: Sendable {
        public var ports: [(name: ServicePortName, endpoints: [Endpoint])] = []
        public var skipped: [SkippedObject] = []
    }

    /// Adds one slice; returns the parts of it that had to be skipped.
    public mutating func add(_ slice: EndpointSlice) -> [SkippedObject] {
        let contribution = Self.contribution(of: slice, family: family, nodeName: nodeName)
        add(contribution)
        return contribution.skipped
    }

    /// Adds what a slice contributes (see ``contribution(of:family:nodeName:)``).
    public mutating func add(_ contribution: Contribution) {
        for (name, endpoints) in contribution.ports { byPort[name, default: []].append(endpoints) }
    }

    /// One list per `ip:port`: the first endpoint that is not terminating, else the first; sorted.
    static func merged<S: Sequence<Endpoint>>(_ endpoints: S) -> [Endpoint] {
        var set: [String: Endpoint] = [:]
        for ep in endpoints {
            if let existing = set[ep.description], !existing.terminating || ep.terminating { continue }
            set[ep.description] = ep
        }
        return set.values.sorted()
    }

    /// Reads one slice: its addresses parsed, its endpoints per port (the costly part of a sync's
    /// input, which ``ProxyStateTracker`` does only for slices that changed).
    public static func contribution(of slice: EndpointSlice, family: IPFamily, nodeName: String) -> Contribution {
        var result = Contribution()
        let namespace = slice.metadata.namespace ?? "default"
        let label = SkippedObject.label("EndpointSlice", namespace: namespace, name: slice.metadata.name ?? "")
        if let problem = validate(slice, namespace: namespace) {
            result.skipped = [SkippedObject(object: label, field: problem.field, reason: problem.reason)]
            return result
        }
        guard let serviceName = slice.serviceName else { return result }
        // Slices of the other family and FQDN slices are not this proxier's business.
        guard slice.addressType == family.rawValue else { return result }
        var skipped: [SkippedObject] = []
        var endpoints: [(Int, Endpoint)] = []
        for (i, ep) in (slice.endpoints ?? []).enumerated() {
            guard let text = ep.addresses?.first else { continue }
            guard let ip = IPAddress(sloppy: text), ip.family == family else {
                skipped.append(SkippedObject(object: label, field: "endpoints[\(i)].addresses[0]", reason: "invalid \(family.rawValue) address \"\(text)\""))
                continue
            }
            let ready = ep.conditions?.ready ?? true
            endpoints.append((i, Endpoint(
                ip: ip, port: 0, isLocal: ep.nodeName != nil && ep.nodeName == nodeName,
                ready: ready, serving: ep.conditions?.serving ?? true,
                terminating: ep.conditions?.terminating ?? false,
                zoneHints: Set((ep.hints?.forZones ?? []).map(\.name)),
                nodeHints: Set((ep.hints?.forNodes ?? []).map(\.name)))))
        }
        for (i, port) in (slice.ports ?? []).enumerated() {
            // A nil name or port makes upstream ignore the port.
            guard let portName = port.name, let number = port.port else { continue }
            guard (1...65535).contains(number) else {
                skipped.append(SkippedObject(object: label, field: "ports[\(i)].port", reason: "must be between 1 and 65535, got \(number)"))
                continue
            }
            guard let proto = L4Protocol(rawValue: port.protocol ?? "TCP") else {
                skipped.append(SkippedObject(object: label, field: "ports[\(i)].protocol", reason: "unsupported protocol \"\(port.protocol ?? "")\""))
                continue
            }
            let name = ServicePortName(namespace: namespace, name: serviceName, port: portName, protocol: proto)
            result.ports.append((name, merged(endpoints.lazy.map { _, template in
                Endpoint(ip: template.ip, port: number, isLocal: template.isLocal, ready: template.ready,
                         serving: template.serving, terminating: template.terminating,
                         zoneHints: template.zoneHints, nodeHints: template.nodeHints)
            })))
        }
        result.skipped = skipped
        return result
    }

    /// The API server's checks of what a slice contributes to rules: its namespace and name, the
    /// Service it names (a label value), its port names (DNS-1123 labels, unique). A slice that fails
    /// is skipped whole, as the API server would refuse it whole.
    static func validate(_ slice: EndpointSlice, namespace: String) -> (field: String, reason: String)? {
        if let reason = NameValidation.dns1123Label(namespace) { return ("metadata.namespace", reason) }
        if let reason = NameValidation.dns1123Subdomain(slice.metadata.name ?? "") { return ("metadata.name", reason) }
        let serviceLabel = "metadata.labels[\(EndpointSlice.serviceNameLabel)]"
        guard let serviceName = slice.serviceName, !serviceName.isEmpty else { return (serviceLabel, "missing; the slice belongs to no Service") }
        if let reason = NameValidation.labelValue(serviceName) { return (serviceLabel, reason) }
        var names = Set<String>()
        for (i, port) in (slice.ports ?? []).enumerated() {
            guard let name = port.name, !name.isEmpty else { continue }
            if let reason = NameValidation.dns1123Label(name) { return ("ports[\(i)].name", reason) }
            if !names.insert(name).inserted { return ("ports[\(i)].name", "duplicate value \"\(name)\"") }
        }
        return nil
    }

    /// The merged endpoints, sorted by their `ip:port` string (a port named by one slice, the
    /// usual case, takes that slice's list as it is).
    public func endpointsByServicePort() -> [ServicePortName: [Endpoint]] {
        byPort.mapValues { lists in lists.count == 1 ? lists[0] : Self.merged(lists.joined()) }
    }
}
