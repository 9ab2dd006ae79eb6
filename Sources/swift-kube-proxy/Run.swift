import ArgumentParser
import Foundation
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime

/// `run` (the default): programs this network namespace and follows the manifests until SIGTERM/SIGINT.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Program this node's kernel from the manifests and keep it in step with them.")

    @OptionGroup var proxy: ProxyOptions

    func run() async throws {
        let config = try proxy.configuration()
        _ = try proxy.loadManifests()
        let logger = proxy.logger()
        let runner = SubprocessCommandRunner()
        let mode = config.resolvedMode
        let backend = try await proxy.resolvedBackend(runner: runner)
        let features = await HostFacts.kernelFeatures(backend: backend, runner: runner)
        let manifests = try Manifests.load(paths: proxy.manifests)
        let family = NodeFacts(config: config, nodes: manifests.nodes, hostname: HostFacts.hostname()).primaryFamily
        logger.info("starting", metadata: ["mode": "\(mode)", "backend": "\(mode == "iptables" ? backend.rawValue : "nft")", "family": "\(family.rawValue)"])
        let conntrack = ConntrackCommands(runner: runner)
        let syncPeriod = config.resolvedSyncPeriod.duration
        let follower = ManifestFollower(source: ManifestSource(paths: proxy.manifests), config: config, features: features, logger: logger) { inputs in
            if mode == "nftables" {
                return NFTablesProxier(nft: NFTCommands(runner: runner), options: inputs.options, family: inputs.state.family,
                                       conntrack: conntrack, logger: logger)
            }
            return IPTablesProxier(iptables: IPTablesCommands(family: inputs.state.family, backend: backend, runner: runner),
                                   options: inputs.options, conntrack: conntrack, cleanupInterval: syncPeriod, logger: logger)
        }
        let task = Task { try await follower.run() }
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        await signals.wait()
        logger.info("signal received: stopping; the rules stay in place")
        task.cancel()
        _ = await task.result
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
