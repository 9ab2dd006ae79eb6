import ArgumentParser
import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging

/// The options every proxying subcommand shares, named as kube-proxy names them.
struct ProxyOptions: ParsableArguments {
    @Option(name: .customLong("config"), help: "A KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1).")
    var configPath: String?

    @Option(name: .customLong("manifests"), parsing: .upToNextOption,
            help: "YAML or JSON files holding Services, EndpointSlices, Nodes (multi-document and kind: List allowed).")
    var manifests: [String] = []

    @Option(name: .customLong("proxy-mode"), help: "Which proxy mode to use: iptables, ipvs or nftables.")
    var proxyMode: String?

    @Option(name: .customLong("hostname-override"), help: "The name of this node, instead of the host name.")
    var hostnameOverride: String?

    @Option(name: .customLong("cluster-cidr"), help: "The pod range; traffic from outside it to a ClusterIP is masqueraded.")
    var clusterCIDR: String?

    @Flag(name: .customLong("masquerade-all"), help: "Masquerade all traffic sent to Service ClusterIPs.")
    var masqueradeAll = false

    @Option(name: .customLong("iptables-backend"), help: "legacy, nft, or auto (detect like kube-proxy's image does).")
    var backend: String = "auto"

    @Option(name: .customLong("iptables-dispatch"), help: "flat (upstream's KUBE-SERVICES scan) or tree (sub-linear dispatch by destination address).")
    var dispatch: String?

    @Option(name: .customLong("nftables-layout"), help: "upstream (kube-proxy's table) or endpoint-maps (endpoint changes as element updates only).")
    var nftablesLayout: String?

    @Option(name: .customLong("kubeconfig"), help: "Path to a kubeconfig file: follow that API server (else --manifests, else the in-cluster service account).")
    var kubeconfig: String?

    @Option(name: .customLong("master"), help: "The API server's address; overrides the kubeconfig's server.")
    var master: String?

    @Option(name: .customLong("healthz-bind-address"), help: "ip:port for /healthz and /livez (default 0.0.0.0:10256; empty disables).")
    var healthzBindAddress: String?

    @Option(name: .customLong("metrics-bind-address"), help: "ip:port for /metrics (default 127.0.0.1:10249; empty disables).")
    var metricsBindAddress: String?

    @Option(name: .customLong("iptables-sync-period"), help: "The longest time between syncs (Go duration, e.g. 30s).")
    var syncPeriod: String?

    @Option(name: .customLong("iptables-min-sync-period"), help: "The shortest time between syncs (Go duration, e.g. 1s).")
    var minSyncPeriod: String?

    @Option(name: .customLong("nodeport-addresses"), help: "CIDRs (comma-separated) of the node addresses NodePorts accept, or \"primary\".")
    var nodePortAddresses: String?

    @Option(name: .customLong("ipvs-scheduler"), help: "The IPVS scheduler (rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, mh).")
    var ipvsScheduler: String?

    @Option(name: .customLong("ipvs-exclude-cidrs"), help: "CIDRs (comma-separated) of virtual servers IPVS mode must not delete.")
    var ipvsExcludeCIDRs: String?

    @Flag(name: .customLong("ipvs-strict-arp"), help: "Set arp_ignore=1 and arp_announce=2 (IPVS mode).")
    var ipvsStrictARP = false

    @Option(name: .customLong("nftables-writer"), help: "nftables mode: write Service chains, rules and elements over netlink (netlink, the default; the table's setup still goes through nft) or everything through nft (nft).")
    var nftablesWriter = "netlink"

    @Option(name: .customLong("v"), help: "Log verbosity (0 = info, 4 and up = debug).")
    var verbosity: Int = 0

    /// The configuration file with the flags laid over it, validated.
    func configuration() throws -> KubeProxyConfiguration {
        var config = KubeProxyConfiguration()
        if let configPath {
            guard let data = FileManager.default.contents(atPath: configPath) else { throw ValidationError("\(configPath): cannot read file") }
            do { config = try KubeProxyConfiguration.strictlyDecoding(String(decoding: data, as: UTF8.self), source: configPath) } catch {
                throw ValidationError("\(error)")
            }
        }
        if let proxyMode { config.mode = proxyMode }
        // As upstream: an empty --hostname-override leaves the configuration's (or the host's) name.
        if let hostnameOverride, !hostnameOverride.isEmpty { config.hostnameOverride = hostnameOverride }
        if let clusterCIDR { config.clusterCIDR = clusterCIDR }
        if masqueradeAll { config.iptables = config.iptables ?? .init(); config.iptables?.masqueradeAll = true }
        if let dispatch { config.iptables = config.iptables ?? .init(); config.iptables?.dispatch = dispatch }
        if let nftablesLayout { config.nftables = config.nftables ?? .init(); config.nftables?.layout = nftablesLayout }
        if let kubeconfig { config.clientConnection = config.clientConnection ?? .init(); config.clientConnection?.kubeconfig = kubeconfig }
        if let healthzBindAddress { config.healthzBindAddress = healthzBindAddress }
        if let metricsBindAddress { config.metricsBindAddress = metricsBindAddress }
        if ipvsScheduler != nil || ipvsExcludeCIDRs != nil || ipvsStrictARP { config.ipvs = config.ipvs ?? .init() }
        if let ipvsScheduler { config.ipvs?.scheduler = ipvsScheduler }
        if let ipvsExcludeCIDRs { config.ipvs?.excludeCIDRs = ipvsExcludeCIDRs.split(separator: ",").map(String.init) }
        if ipvsStrictARP { config.ipvs?.strictARP = true }
        if let nodePortAddresses { config.nodePortAddresses = nodePortAddresses.split(separator: ",").map(String.init) }
        // The flags set the top-level periods, which every mode follows.
        for (flag, text, keyPath) in [("--iptables-sync-period", syncPeriod, \KubeProxyConfiguration.syncPeriod),
                                      ("--iptables-min-sync-period", minSyncPeriod, \KubeProxyConfiguration.minSyncPeriod)] {
            guard let text else { continue }
            guard let d = GoDuration(parsing: text) else { throw ValidationError("\(flag): \"\(text)\" is not a duration (e.g. 30s, 1m)") }
            config[keyPath: keyPath] = d
        }
        let errors = config.validationErrors()
        guard errors.isEmpty else { throw ValidationError(errors.joined(separator: "\n")) }
        return config
    }

    func loadManifests() throws -> Manifests {
        guard !manifests.isEmpty else { throw ValidationError("--manifests: at least one file is needed") }
        let loaded = try Manifests.load(paths: manifests)
        let log = logger()
        for problem in loaded.problems { log.warning("skipping manifest document: \(problem)") }
        return loaded
    }

    /// What applies nftables transactions, per `--nftables-writer`.
    func nftablesInterface(runner: any CommandRunner, logger: Logger) throws -> any NFTablesInterface {
        let commands = NFTCommands(runner: runner)
        switch nftablesWriter {
        case "nft":
            logger.info("nftables transactions go through nft")
            return commands
        case "netlink":
            do {
                let writer = try NFTablesNetlinkWriter(nft: commands, logger: logger)
                logger.info("nftables transactions go over netlink; the table's setup through nft")
                return writer
            } catch {
                logger.warning("no nf_tables netlink socket; every nftables transaction goes through nft", metadata: ["error": "\(error)"])
                return commands
            }
        default: throw ValidationError("--nftables-writer: must be netlink or nft, not \"\(nftablesWriter)\"")
        }
    }

    func resolvedBackend(runner: any CommandRunner) async throws -> IPTablesBackend {
        switch backend {
        case "auto": return await IPTablesBackend.detect(runner: runner)
        case let name: 
            guard let b = IPTablesBackend(rawValue: name) else { throw ValidationError("--iptables-backend: must be legacy, nft or auto") }
            return b
        }
    }

    func logger() -> Logger {
        var logger = Logger(label: "swift-kube-proxy")
        logger.logLevel = verbosity >= 4 ? .debug : .info
        return logger
    }
}

/// Host facts the renderer and tracer may be given instead of reading them.
struct HostOptions: ParsableArguments {
    @Option(name: .customLong("host-address"), help: "An interface address of this host (CIDR form); repeat for each. Default: this namespace's addresses.")
    var hostAddresses: [String] = []

    @Option(name: .customLong("kernel-features"), help: "nfacct|no-nfacct|nfacct:<counter>, random-fully|no-random-fully, tcp-be-liberal|no-tcp-be-liberal (comma-separated). Default: probe.")
    var kernelFeatures: String?

    func addresses() throws -> [IPAddress] {
        if hostAddresses.isEmpty { return HostFacts.interfaceAddresses() }
        return try hostAddresses.map { text in
            let ipText = text.split(separator: "/").first.map(String.init) ?? text
            guard let ip = IPAddress(sloppy: ipText) else { throw ValidationError("--host-address: \"\(text)\" is not an address") }
            return ip
        }
    }

    func features(backend: IPTablesBackend, runner: any CommandRunner) async throws -> KernelFeatures {
        if let kernelFeatures {
            do { return try KernelFeatures(parsing: kernelFeatures) } catch { throw ValidationError("--kernel-features: \(error)") }
        }
        return await HostFacts.kernelFeatures(backend: backend, runner: runner)
    }
}
