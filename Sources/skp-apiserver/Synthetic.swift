import Foundation
import KubeProxyTesting

/// A synthetic cluster as API objects: Service i has ClusterIP 198.18.128.0 + i (port 80) and
/// one EndpointSlice of `endpoints` ready endpoints in 198.19.0.0/16 (port 8080).
enum Synthetic {
    static func clusterIP(_ i: Int) -> String {
        let n = 0xC612_8000 + UInt32(i)
        return "\(n >> 24).\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)"
    }

    static func endpointIP(_ n: Int) -> String {
        let v = 0xC613_0000 + UInt32(n % 65_000)
        return "\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
    }

    static func slice(_ i: Int, addresses: [String], trigger: Date? = nil) -> [String: Any] {
        var meta: [String: Any] = ["name": "svc-\(i)-1", "namespace": "bench", "labels": ["kubernetes.io/service-name": "svc-\(i)"]]
        if let trigger {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            meta["annotations"] = ["endpoints.kubernetes.io/last-change-trigger-time": f.string(from: trigger)]
        }
        return ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4", "metadata": meta,
                "ports": [["name": "http", "protocol": "TCP", "port": 8080]],
                "endpoints": addresses.map { ["addresses": [$0], "conditions": ["ready": true]] }]
    }

    static func load(into server: TestAPIServer, services: Int, endpoints: Int, node: String) {
        server.apply("/api/v1/nodes", ["apiVersion": "v1", "kind": "Node", "metadata": ["name": node],
                                       "status": ["addresses": [["type": "InternalIP", "address": "198.18.2.1"]]]])
        for i in 0..<services {
            server.apply("/api/v1/services", ["apiVersion": "v1", "kind": "Service",
                                              "metadata": ["name": "svc-\(i)", "namespace": "bench"],
                                              "spec": ["clusterIP": clusterIP(i), "ports": [["name": "http", "protocol": "TCP", "port": 80]]]])
            server.apply("/apis/discovery.k8s.io/v1/endpointslices", slice(i, addresses: (0..<endpoints).map { endpointIP(i * endpoints + $0) }))
        }
    }
}

/// One endpoint change at a time, each timed from the API change to the proxy's next finished sync.
struct Churn {
    let server: TestAPIServer
    let services: Int, endpoints: Int
    let log: String

    func syncCount() -> Int {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return 0 }
        return text.components(separatedBy: "sync done").count - 1
    }

    func run(count: Int) async throws {
        say("waiting for the proxy's first sync (\(log))")
        while syncCount() == 0 { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(2))
        var samples: [Double] = []
        for k in 0..<count {
            let i = (k * 7919) % services
            let before = syncCount()
            let start = Date()
            var addresses = (0..<endpoints).map { Synthetic.endpointIP(i * endpoints + $0) }
            addresses[0] = "198.18.250.\(1 + k % 250)"
            server.apply("/apis/discovery.k8s.io/v1/endpointslices", Synthetic.slice(i, addresses: addresses, trigger: start))
            while syncCount() == before { try await Task.sleep(for: .milliseconds(2)) }
            samples.append(Date().timeIntervalSince(start))
        }
        samples.sort()
        func p(_ q: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * q))] * 1000 }
        say(String(format: "event -> kernel over %d endpoint changes at %d Services x %d endpoints: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                     samples.count, services, endpoints, p(0.5), p(0.9), p(0.99), samples.last! * 1000))
    }
}
