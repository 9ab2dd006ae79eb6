import Foundation

/// Small Kubernetes objects as the API server would store them.
enum Objects {
    static func service(_ name: String, ip: String, namespace: String = "default", labels: [String: String] = [:]) -> [String: Any] {
        ["apiVersion": "v1", "kind": "Service",
         "metadata": ["name": name, "namespace": namespace, "labels": labels],
         "spec": ["type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ports": [["name": "http", "protocol": "TCP", "port": 80]]]]
    }

    static func slice(_ name: String, service: String, ips: [String], namespace: String = "default", annotations: [String: String] = [:]) -> [String: Any] {
        ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
         "metadata": ["name": name, "namespace": namespace, "labels": ["kubernetes.io/service-name": service], "annotations": annotations],
         "ports": [["name": "http", "protocol": "TCP", "port": 8080]],
         "endpoints": ips.map { ["addresses": [$0], "conditions": ["ready": true]] }]
    }

    static func node(_ name: String, ip: String) -> [String: Any] {
        ["apiVersion": "v1", "kind": "Node", "metadata": ["name": name],
         "status": ["addresses": [["type": "InternalIP", "address": ip]]]]
    }
}

/// Polls `condition` until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
