import Foundation
import KubeProxyCore
import KubeProxyTesting

/// A synthetic cluster as API objects: Service i has ClusterIP 198.18.128.0 + i (port 80) and
/// one EndpointSlice of `endpoints` ready endpoints in 198.19.0.0/16 (port 8080).
enum Synthetic {
    static func clusterIP(_ i: Int) -> String { SyntheticCluster.clusterIP(i).description }

    /// Endpoint `e` of Service `s`: the same addresses as the compile benchmarks' synthetic clusters.
    static func endpointIP(_ s: Int, _ e: Int, perService: Int) -> String {
        SyntheticCluster.defaultEndpoint(s, e, perService: perService).ip.description
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
            server.apply("/apis/discovery.k8s.io/v1/endpointslices", slice(i, addresses: (0..<endpoints).map { endpointIP(i, $0, perService: endpoints) }))
        }
    }
}

/// One endpoint change at a time, each timed from the API change to the proxy's next finished sync.
struct Churn {
    let server: TestAPIServer
    let services: Int, endpoints: Int
    let log: String

    /// Counts "sync done" lines, reading only what the log gained since the last call.
    final class LogTail: @unchecked Sendable {
        let path: String
        var offset: UInt64 = 0, count = 0, carry = Data()
        init(path: String) { self.path = path }
        func syncCount() -> Int {
            guard let handle = FileHandle(forReadingAtPath: path) else { return count }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            let fresh = handle.readDataToEndOfFile()
            offset += UInt64(fresh.count)
            let text = String(decoding: carry + fresh, as: UTF8.self)
            count += text.components(separatedBy: "sync done").count - 1
            carry = Data(text.utf8.suffix(8))   // a marker split across reads is counted once
            if text.hasSuffix("sync done") { carry = Data() }
            return count
        }
    }
    let tail: LogTail

    init(server: TestAPIServer, services: Int, endpoints: Int, log: String) {
        self.server = server
        self.services = services
        self.endpoints = endpoints
        self.log = log
        self.tail = LogTail(path: log)
    }

    func syncCount() -> Int { tail.syncCount() }

    func run(count: Int) async throws {
        say("waiting for the proxy's first sync (\(log))")
        while syncCount() == 0 { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(2))
        var samples: [Double] = []
        for k in 0..<count {
            let i = (k * 7919) % services
            let before = syncCount()
            let start = Date()
            var addresses = (0..<endpoints).map { Synthetic.endpointIP(i, $0, perService: endpoints) }
            addresses[0] = "198.18.250.\(1 + k % 250)"
            server.apply("/apis/discovery.k8s.io/v1/endpointslices", Synthetic.slice(i, addresses: addresses, trigger: start))
            while syncCount() == before { try await Task.sleep(for: .milliseconds(2)) }
            samples.append(Date().timeIntervalSince(start))
            if samples.count % 100 == 0 { report(samples, final: false) }
        }
        report(samples, final: true)
    }

    func report(_ unsorted: [Double], final: Bool) {
        let samples = unsorted.sorted()
        func p(_ q: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * q))] * 1000 }
        say((final ? "" : "so far: ") + String(format: "event -> kernel over %d endpoint changes at %d Services x %d endpoints: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
                     samples.count, services, endpoints, p(0.5), p(0.9), p(0.99), samples.last! * 1000))
    }
}
