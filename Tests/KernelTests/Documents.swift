/// Small edits of the example cluster's documents, for tests that change manifests while the proxy runs.
extension Array where Element == [String: Any] {
    /// Removes endpoints with `address` from the EndpointSlice called `slice`.
    func removingEndpoint(_ address: String, fromSlice slice: String) -> [[String: Any]] {
        map { doc in
            guard doc["kind"] as? String == "EndpointSlice", (doc["metadata"] as? [String: Any])?["name"] as? String == slice else { return doc }
            var d = doc
            d["endpoints"] = (doc["endpoints"] as? [[String: Any]] ?? []).filter { ($0["addresses"] as? [String])?.first != address }
            return d
        }
    }

    /// Removes the Service (and its slices) called `name`.
    func removingService(_ name: String) -> [[String: Any]] {
        filter { doc in
            let meta = doc["metadata"] as? [String: Any]
            if doc["kind"] as? String == "Service" { return meta?["name"] as? String != name }
            if doc["kind"] as? String == "EndpointSlice" { return (meta?["labels"] as? [String: String])?["kubernetes.io/service-name"] != name }
            return true
        }
    }

    /// Adds a ClusterIP Service with one HTTP port (80 -> `targetPort`) on `addresses`.
    func addingService(_ name: String, clusterIP: String, addresses: [String], targetPort: Int = 8080) -> [[String: Any]] {
        self + [
            ["apiVersion": "v1", "kind": "Service", "metadata": ["namespace": "demo", "name": name],
             "spec": ["clusterIP": clusterIP, "ports": [["name": "http", "protocol": "TCP", "port": 80]]]],
            ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": ["namespace": "demo", "name": "\(name)-1", "labels": ["kubernetes.io/service-name": name]],
             "addressType": "IPv4", "ports": [["name": "http", "protocol": "TCP", "port": targetPort]],
             "endpoints": addresses.map { ["addresses": [$0], "nodeName": "lab-node"] }],
        ]
    }

    /// Empties the EndpointSlice called `slice` (the Service scaled to zero).
    func removingAllEndpoints(fromSlice slice: String) -> [[String: Any]] {
        map { doc in
            guard doc["kind"] as? String == "EndpointSlice", (doc["metadata"] as? [String: Any])?["name"] as? String == slice else { return doc }
            var d = doc
            d["endpoints"] = [[String: Any]]()
            return d
        }
    }

    /// Makes the Service called `name` a NodePort Service, its first port on `nodePort`.
    func makingNodePort(_ name: String, nodePort: Int) -> [[String: Any]] {
        map { doc in
            guard doc["kind"] as? String == "Service", (doc["metadata"] as? [String: Any])?["name"] as? String == name,
                  var spec = doc["spec"] as? [String: Any], var ports = spec["ports"] as? [[String: Any]], !ports.isEmpty else { return doc }
            ports[0]["nodePort"] = nodePort
            spec["ports"] = ports
            spec["type"] = "NodePort"
            var d = doc
            d["spec"] = spec
            return d
        }
    }
}
