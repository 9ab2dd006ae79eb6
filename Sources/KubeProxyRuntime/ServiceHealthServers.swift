import KubeProxyCore
import Logging
import ServiceLifecycle
import Synchronization

/// Upstream's service health servers: for every Service with `externalTrafficPolicy: Local` and a
/// `healthCheckNodePort`, an HTTP server on that port that tells load balancers whether this node
/// has local endpoints (200) or not (503), with the count in the body and in
/// `X-Load-Balancing-Endpoint-Weight`. A service: ``run()`` serves every port ``update(_:)`` opens,
/// until the service group shuts down.
public actor ServiceHealthServers: ServiceLifecycle.Service {
    /// What one port reports.
    public struct Report: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var localEndpoints: Int
    }

    private struct Entry {
        var server: HTTPEndpointServer
        var report: ReportBox
    }

    /// The report a port's server reads on each request.
    final class ReportBox: Sendable {
        private let value: Mutex<Report>
        init(_ report: Report) { value = Mutex(report) }
        var report: Report {
            get { value.withLock { $0 } }
        }
        func set(_ report: Report) { value.withLock { $0 = report } }
    }

    let host: String
    let health: ProxierHealth?
    let logger: Logger
    private var entries: [Int: Entry] = [:]
    /// Servers opened by ``update(_:)``, for ``run()`` to serve.
    private nonisolated let opened = AsyncStream.makeStream(of: HTTPEndpointServer.self)

    public init(host: String = "0.0.0.0", health: ProxierHealth?, logger: Logger) {
        self.host = host
        self.health = health
        self.logger = logger
    }

    /// Serves each port's server as it opens, until cancelled or a graceful shutdown; a port that
    /// goes away ends its own server (``HTTPEndpointServer/close()``).
    public nonisolated func run() async {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for await server in self.opened.stream {
                    group.addTask { try? await server.run() }
                }
            }
        }
    }

    /// The ports in use now.
    public var ports: [Int] { entries.keys.sorted() }

    /// The health-check ports `state` asks for, with each Service's ready local endpoints.
    public static func wanted(_ state: ProxyState) -> [Int: Report] {
        var result: [Int: Report] = [:]
        for (name, svc) in state.services where svc.externalPolicyLocal && svc.healthCheckNodePort > 0 {
            let local = (state.endpoints[name] ?? []).filter { $0.isLocal && $0.ready }.count
            // Several ports of one Service share its health check; the largest count stands.
            let count = max(local, result[svc.healthCheckNodePort]?.localEndpoints ?? 0)
            result[svc.healthCheckNodePort] = Report(namespace: name.namespace, name: name.name, localEndpoints: count)
        }
        return result
    }

    /// Opens the servers of new ports, updates the counts, closes the servers of ports gone.
    public func update(_ wanted: [Int: Report]) async {
        for (port, entry) in entries where wanted[port] == nil {
            entry.server.close()
            entries[port] = nil
        }
        for (port, report) in wanted {
            if let entry = entries[port] {
                entry.report.set(report)
                continue
            }
            let shared = ReportBox(report)
            let health = self.health
            do {
                let server = try await HTTPEndpointServer(host: host, port: port, logger: logger) { _, writer in
                    let r = shared.report
                    let proxyHealthy = health?.check().healthy ?? true
                    let body = """
                        {
                        \t"service": {
                        \t\t"namespace": "\(r.namespace)",
                        \t\t"name": "\(r.name)"
                        \t},
                        \t"localEndpoints": \(r.localEndpoints),
                        \t"serviceProxyHealthy": \(proxyHealthy)
                        }
                        """
                    try await writer.respond(status: r.localEndpoints > 0 && proxyHealthy ? .ok : .serviceUnavailable,
                                             contentType: "application/json", body: body,
                                             headers: [("X-Content-Type-Options", "nosniff"),
                                                       ("X-Load-Balancing-Endpoint-Weight", String(r.localEndpoints))])
                }
                opened.continuation.yield(server)
                entries[port] = Entry(server: server, report: shared)
                logger.info("serving a service health check", metadata: ["service": "\(report.namespace)/\(report.name)", "port": "\(port)"])
            } catch {
                logger.error("cannot open the service health check port", metadata: ["port": "\(port)", "error": "\(error)"])
            }
        }
    }
}
