import ServiceLifecycle

/// One long-running part of `run` (an informer set, an HTTP server, the sync loop) as a
/// swift-service-lifecycle service: on graceful shutdown (SIGTERM, SIGINT) its task is cancelled,
/// and a loop that ends because of that counts as a clean stop.
struct DaemonService: ServiceLifecycle.Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async throws -> Void

    init(_ name: String, body: @escaping @Sendable () async throws -> Void) {
        self.description = name
        self.body = body
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await body() }
        } catch is CancellationError {
            return
        }
    }
}
