import ArgumentParser

/// `swift-kube-proxy`: a Kubernetes node service proxy (kube-proxy) in Swift.
@main
struct KubeProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-kube-proxy",
        abstract: "A Kubernetes node service proxy: programs the kernel so that Service addresses reach ready Pods.",
        subcommands: [Run.self, Render.self, Trace.self, Verify.self, Cleanup.self, Bench.self, Analyze.self, BenchPod.self],
        defaultSubcommand: Run.self)
}
