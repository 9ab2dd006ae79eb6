/// The elements a sync wants in each set and map, in the order they were computed.
struct DesiredElements {
    /// Every element container kube-proxy manages, in the order their elements are written.
    static let containers = ["cluster-ips", "nodeport-ips", "service-ips", "service-nodeports", "firewall-ips",
                             "no-endpoint-services", "no-endpoint-nodeports", "endpoint-hairpin"]
    private(set) var memory = NFTablesMemory()
    private(set) var order: [String: [String]] = [:]

    /// Every element, container by container in write order, each in the order it was added.
    var ordered: [NFTablesMemory.ServiceRecord.Element] {
        Self.containers.flatMap { container in
            (order[container] ?? []).map { key in
                let e = memory.elements[container]![key]!
                return .init(container: container, key: key, value: e.value, comment: e.comment)
            }
        }
    }

    mutating func add(_ container: String, _ key: String, value: String? = nil, comment: String? = nil) {
        if memory.elements[container]?[key] != nil {
            memory.sharedKeys[container, default: [:]][key, default: 0] += 1
            return
        }
        memory.elements[container, default: [:]][key] = NFTablesMemory.Element(value: value, comment: comment)
        order[container, default: []].append(key)
    }
}
