/// The elements a sync wants in each set and map, in the order they were computed.
struct DesiredElements {
    /// Every element container kube-proxy manages, in the order their elements are written.
    static let containers = ["cluster-ips", "nodeport-ips", "service-ips", "service-nodeports", "firewall-ips",
                             "no-endpoint-services", "no-endpoint-nodeports"]
    private(set) var memory = NFTablesMemory()
    private(set) var order: [String: [String]] = [:]

    mutating func add(_ container: String, _ key: String, value: String? = nil, comment: String? = nil) {
        if memory.elements[container]?[key] != nil { return }
        memory.elements[container, default: [:]][key] = NFTablesMemory.Element(value: value, comment: comment)
        order[container, default: []].append(key)
    }
}
