import Logging

/// The servers of `/healthz` and `/livez` (upstream's healthz port, 10256) and `/metrics`
/// (upstream's metrics port, 10249), with upstream's answers.
public enum HealthEndpoints {
    public static func healthServer(host: String, port: Int, health: ProxierHealth, metrics: ProxyMetrics, logger: Logger) async throws -> HTTPEndpointServer {
        try await HTTPEndpointServer(host: host, port: port, logger: logger) { request, writer in
            switch request.path {
            case "/healthz", "/livez":
                let livez = request.path == "/livez"
                let (status, body) = health.response(livez: livez)
                metrics.probed(livez: livez, code: status)
                try await writer.respond(status: .init(statusCode: status), contentType: "application/json", body: body,
                                         headers: [("X-Content-Type-Options", "nosniff")])
            default:
                try await writer.respond(status: .notFound, contentType: "text/plain", body: "404 page not found\n")
            }
        }
    }

    public static func metricsServer(host: String, port: Int, metrics: ProxyMetrics, logger: Logger) async throws -> HTTPEndpointServer {
        try await HTTPEndpointServer(host: host, port: port, logger: logger) { request, writer in
            switch request.path {
            case "/metrics":
                try await writer.respond(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
            case "/healthz":
                try await writer.respond(status: .ok, contentType: "text/plain", body: "ok")
            default:
                try await writer.respond(status: .notFound, contentType: "text/plain", body: "404 page not found\n")
            }
        }
    }
}
