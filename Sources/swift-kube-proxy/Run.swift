import ArgumentParser
import Foundation
import KubeProxyAPI
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging

/// `run` (the default): programs this network namespace and follows the cluster (an API server,
/// or manifest files) until SIGTERM/SIGINT, serving /healthz, /livez and /metrics.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Program this node's kernel from the cluster and keep it in step with it.")

    @OptionGroup var proxy: ProxyOptions

    @Flag(name: .customLong("cleanup"), help: "Remove every rule and table kube-proxy creates (all modes) and exit.")
    var cleanup = false

    func run() async throws {
        if cleanup {
            try await Cleanup.parse([]).run()
            return
        }
        let config = try proxy.configuration()
        let logger = proxy.logger()
        let runner = SubprocessCommandRunner()
        let mode = config.resolvedMode
        let backend = try await proxy.resolvedBackend(runner: runner)
        let features = await HostFacts.kernelFeatures(backend: backend, runner: runner)
        let nodeName = NodeFacts(config: config, nodes: [], hostname: HostFacts.hostname()).name

        // The source: manifest files, or an API server (kubeconfig, --master, or in-cluster).
        let source: any ManifestProvider
        var informers: Task<Void, Never>?
        if !proxy.manifests.isEmpty {
            guard config.clientConnection?.kubeconfig == nil else { throw ValidationError("--manifests and --kubeconfig: give one source, not both") }
            _ = try proxy.loadManifests()
            source = ManifestSource(paths: proxy.manifests)
        } else {
            let api = try apiServerConfig(config)
            let client = try APIClient(config: api)
            let apiSource = APISource(client: client, nodeName: nodeName, logger: logger)
            informers = Task { await apiSource.run() }
            logger.info("waiting for the first list of Services, EndpointSlices and Node", metadata: ["server": "\(api.server)", "node": "\(nodeName)"])
            try await apiSource.waitUntilSynced()
            source = apiSource
        }
        logger.info("starting", metadata: ["mode": "\(mode)", "backend": "\(mode == "iptables" ? backend.rawValue : "nft")", "source": "\(source.description)"])

        let health = ProxierHealth(timeout: config.resolvedSyncPeriod.duration * 2)
        let metrics = ProxyMetrics()
        var servers: [Task<Void, any Error>] = []
        if let address = try Self.bindAddress(config.resolvedHealthzBindAddress, field: "healthzBindAddress") {
            let server = try await HealthEndpoints.healthServer(host: address.host, port: address.port, health: health, metrics: metrics, logger: logger)
            servers.append(Task { try await server.run() })
            logger.info("serving /healthz and /livez", metadata: ["address": "\(address.host):\(server.port)"])
        }
        if let address = try Self.bindAddress(config.resolvedMetricsBindAddress, field: "metricsBindAddress") {
            let server = try await HealthEndpoints.metricsServer(host: address.host, port: address.port, metrics: metrics, logger: logger)
            servers.append(Task { try await server.run() })
            logger.info("serving /metrics", metadata: ["address": "\(address.host):\(server.port)"])
        }

        let conntrack = ConntrackCommands(runner: runner)
        let syncPeriod = config.resolvedSyncPeriod.duration
        var follower = ManifestFollower(source: source, config: config, features: features, logger: logger) { inputs in
            if mode == "nftables" {
                return NFTablesProxier(nft: NFTCommands(runner: runner), options: inputs.options, family: inputs.state.family,
                                       conntrack: conntrack, logger: logger)
            }
            return IPTablesProxier(iptables: IPTablesCommands(family: inputs.state.family, backend: backend, runner: runner),
                                   options: inputs.options, conntrack: conntrack, cleanupInterval: syncPeriod, logger: logger)
        }
        follower.health = health
        follower.metrics = metrics
        if informers != nil { follower.pollInterval = .milliseconds(10) }
        let task = Task { [follower] in try await follower.run() }
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        await signals.wait()
        logger.info("signal received: stopping; the rules stay in place")
        task.cancel()
        informers?.cancel()
        for server in servers { server.cancel() }
        _ = await task.result
    }

    /// Where the API server is: `--kubeconfig` (or the config file's clientConnection.kubeconfig,
    /// or KUBECONFIG), else `--master` alone, else the in-cluster service account.
    func apiServerConfig(_ config: KubeProxyConfiguration) throws -> APIServerConfig {
        let env = ProcessInfo.processInfo.environment
        let path = config.clientConnection?.kubeconfig.flatMap { $0.isEmpty ? nil : $0 } ?? env["KUBECONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            if let path { return try Kubeconfig.load(path: path, master: proxy.master) }
            if let master = proxy.master { return APIServerConfig(server: master) }
            return try APIServerConfig.inCluster()
        } catch let error as APIConfigError {
            throw ValidationError("\(error)")
        }
    }

    /// `ip:port` (IPv6 in brackets); nil when empty (the endpoint is off).
    static func bindAddress(_ text: String, field: String) throws -> (host: String, port: Int)? {
        guard !text.isEmpty else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("KubeProxyConfiguration.\(field): \"\(text)\" is not ip:port")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard IPAddress(sloppy: host) != nil else { throw ValidationError("KubeProxyConfiguration.\(field): \"\(host)\" is not an IP address") }
        return (host, port)
    }
}

/// Waits for one of a set of signals (the dispatch sources are only kept alive, never mutated).
final class SignalWaiter: @unchecked Sendable {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32]) {
        var continuation: AsyncStream<Int32>.Continuation!
        stream = AsyncStream { continuation = $0 }
        let c = continuation!
        sources = signals.map { sig in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { c.yield(sig) }
            source.resume()
            return source
        }
    }

    func wait() async {
        for await _ in stream { return }
    }
}
