import ArgumentParser
import Foundation
import KubeProxyAPI
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import Logging
import Metrics
import ServiceLifecycle

/// `run` (the default): programs this network namespace and follows the cluster (an API server,
/// or manifest files) until SIGTERM/SIGINT, serving /healthz, /livez and /metrics.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Program this node's kernel from the cluster and keep it in step with it.")

    @OptionGroup var proxy: ProxyOptions

    @Flag(name: .customLong("cleanup"), help: "Remove every rule and table kube-proxy creates (all modes) and exit.")
    var cleanup = false

    @Flag(name: .customLong("init-only"), help: "Do the setup that needs full privileges (conntrack sysctls; route_localnet in iptables mode; IPVS mode's sysctls and timeouts) and exit, as upstream's --init-only: run it as a privileged init container, then run with NET_ADMIN only.")
    var initOnly = false

    func run() async throws {
        // Netlink receive buffers (256 KiB) are made on Dispatch's threads: a fixed mmap threshold
        // returns them to the kernel when freed (glibc's default raises the threshold after the
        // first, and each thread's arena then kept them), and two arenas as long-running services
        // set (MALLOC_ARENA_MAX=2). The IPVS soak's resident memory grew 7-13% in 2 minutes without.
        _ = glibcMallopt(-3, 128 * 1024)   // M_MMAP_THRESHOLD
        _ = glibcMallopt(-8, 2)            // M_ARENA_MAX
        if cleanup {
            try await Cleanup.parse([]).run()
            return
        }
        let config = try proxy.configuration()
        let logger = proxy.logger()
        let runner = SubprocessCommandRunner()
        let mode = config.proxyMode
        if initOnly {
            ConntrackStartup.apply(config, logger: logger)
            return try Self.initializeAndExit(config: config, mode: mode, logger: logger)
        }
        let backend = try await proxy.resolvedBackend(runner: runner)
        let nodeName = NodeFacts(config: config, nodes: [], hostname: HostFacts.hostname()).name

        // The source: manifest files, or an API server (kubeconfig, --master, or in-cluster).
        let source: any ManifestProvider
        let apiSource: APISource?
        if !proxy.manifests.isEmpty {
            guard config.clientConnection?.kubeconfig == nil else { throw ValidationError("--manifests and --kubeconfig: give one source, not both") }
            _ = try proxy.loadManifests()
            source = ManifestSource(paths: proxy.manifests)
            apiSource = nil
        } else {
            let api = try apiServerConfig(config)
            let client = try APIClient(config: api)
            let informers = APISource(client: client, nodeName: nodeName, logger: logger)
            apiSource = informers
            source = informers
        }
        // Once everything is validated, before the kernel's features are read (tcpBeLiberal
        // decides whether invalid packets are dropped).
        ConntrackStartup.apply(config, logger: logger)
        let features = await HostFacts.kernelFeatures(backend: backend, runner: runner)
        logger.info("starting", metadata: ["mode": "\(mode)", "backend": "\(mode == .nftables ? "nft" : backend.rawValue)", "source": "\(source.description)"])

        let health = ProxierHealth(timeout: config.resolvedSyncPeriod.duration * 2)
        let metrics = ProxyMetrics()
        // Every library that records through swift-metrics lands on /metrics.
        MetricsSystem.bootstrap(metrics.factory)
        // One service group; shut down in reverse order: the sync loop first, then the informers,
        // then the service health checks and the endpoints.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let address = try Self.bindAddress(config.resolvedHealthzBindAddress, field: "healthzBindAddress") {
            let server = try await HealthEndpoints.healthServer(host: address.host, port: address.port, health: health, metrics: metrics, logger: logger)
            services.append(.init(service: server, serviceName: "healthz"))
            logger.info("serving /healthz and /livez", metadata: ["address": "\(address.host):\(server.port)"])
        }
        if let address = try Self.bindAddress(config.resolvedMetricsBindAddress, field: "metricsBindAddress") {
            let server = try await HealthEndpoints.metricsServer(host: address.host, port: address.port, metrics: metrics, logger: logger)
            services.append(.init(service: server, serviceName: "metrics"))
            logger.info("serving /metrics", metadata: ["address": "\(address.host):\(server.port)"])
        }
        let serviceHealth = ServiceHealthServers(health: health, logger: logger)
        services.append(.init(service: serviceHealth, serviceName: "service-health"))
        if let apiSource { services.append(.init(service: apiSource, serviceName: "informers")) }

        // IPVS mode: the kernel must have IPVS; sysctls and timeouts are set once, before the first sync.
        let ipvs: IPVSKernel? = mode == .ipvs ? try IPVSKernel(transport: try NetlinkSocket()) : nil
        if let ipvs { try IPVSStartup.prepare(ipvs: ipvs, config: config, logger: logger) }
        let excludeCIDRs = (config.ipvs?.excludeCIDRs ?? []).compactMap { CIDR(sloppy: $0) }

        // Other modes' leftovers go before the first sync (a mode switch must not leave the old
        // dataplane answering); a restart in the same mode touches nothing.
        let leftovers = Leftovers(runner: runner) { ipvs ?? (try? IPVSKernel(transport: try NetlinkSocket())) }
        for removal in await leftovers.removeOthers(mode: mode, backend: backend) {
            if let error = removal.error { logger.warning("cannot remove another mode's leftovers", metadata: ["what": "\(removal.what)", "error": "\(error)"]) }
            else { logger.info("removed another mode's leftovers", metadata: ["what": "\(removal.what)"]) }
        }

        // Stale UDP flows go over ctnetlink; the conntrack tool only where no netfilter socket can be had.
        let conntrack: any ConntrackCleaner
        do { conntrack = try ConntrackNetlink(logger: logger) } catch {
            logger.warning("no netfilter socket for conntrack; using the conntrack tool", metadata: ["error": "\(error)"])
            conntrack = ConntrackCommands(runner: runner)
        }
        let nftables: (any NFTablesInterface)? = mode == .nftables ? try proxy.nftablesInterface(runner: runner, logger: logger) : nil
        let syncPeriod = config.resolvedSyncPeriod.duration
        let factory = ProxierFactory(mode: mode, backend: backend, runner: runner, nftables: nftables, ipvs: ipvs,
                                     ipvsSettings: .init(scheduler: config.resolvedIPVSScheduler, excludeCIDRs: excludeCIDRs), conntrack: conntrack,
                                     cleanupInterval: syncPeriod, tableEntries: { Self.entryCounter(backend: backend, family: $0) })
        var follower = ManifestFollower(source: source, config: config, features: features, logger: logger) { inputs in
            var logger = logger   // each family's proxier names its family in its lines
            logger[metadataKey: "family"] = "\(inputs.state.family.rawValue)"
            return try factory.make(options: inputs.options, family: inputs.state.family, logger: logger)
        }
        follower.health = health
        follower.metrics = metrics
        follower.serviceHealth = serviceHealth
        if let apiSource {
            follower.waitUntilReady = {
                logger.info("waiting for the first list of Services, EndpointSlices and Node", metadata: ["source": "\(apiSource.description)", "node": "\(nodeName)"])
                try await apiSource.waitUntilSynced()
            }
        }
        services.append(.init(service: follower, serviceName: "proxier"))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped; the rules stay in place")
    }

    /// `--init-only`: the privileged setup `run` would do before its first sync, then exit.
    static func initializeAndExit(config: KubeProxyConfiguration, mode: ProxyMode, logger: Logger) throws {
        switch mode {
        case .ipvs:
            try IPVSStartup.prepare(ipvs: try IPVSKernel(transport: try NetlinkSocket()), config: config, logger: logger)
        case .iptables where config.resolvedLocalhostNodePorts && NodePortAddresses(config.nodePortAddresses ?? [], family: .ipv4).containsIPv4Loopback:
            try HostFacts.setSysctl("net/ipv4/conf/all/route_localnet", "1")
        case .iptables, .nftables:
            break
        }
        logger.info("system initialized and --init-only given: exiting", metadata: ["mode": "\(mode)"])
    }

    /// Where the API server is: `--kubeconfig` (or the config file's clientConnection.kubeconfig,
    /// or KUBECONFIG), else `--master` alone, else the in-cluster service account.
    func apiServerConfig(_ config: KubeProxyConfiguration) throws -> APIServerConfig {
        try Self.apiServerConfig(config, master: proxy.master)
    }

    static func apiServerConfig(_ config: KubeProxyConfiguration, master: String?) throws -> APIServerConfig {
        let env = ProcessInfo.processInfo.environment
        let path = config.clientConnection?.kubeconfig.flatMap { $0.isEmpty ? nil : $0 } ?? env["KUBECONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        do {
            if let path { return try Kubeconfig.load(path: path, master: master) }
            if let master { return APIServerConfig(server: master) }
            return try APIServerConfig.inCluster()
        } catch let error as APIConfigError {
            throw ValidationError("\(error)")
        }
    }

    /// iptables-legacy tables can be counted in microseconds from this process (it runs in the
    /// namespace it programs): the integrity check then reads the rules only when they moved.
    static func entryCounter(backend: IPTablesBackend, family: IPFamily) -> (@Sendable (String) -> Int?)? {
        guard backend == .legacy else { return nil }
        return { @Sendable table in XTablesInfo.entries(table: table, family: family) }
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

/// glibc's `mallopt` (malloc.h is not in Swift's Glibc module).
@_silgen_name("mallopt")
func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
