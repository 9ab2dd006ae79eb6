#if canImport(Glibc)
import Glibc
#endif
import IPTablesRules
import KubeProxyCore
import KubeProxyKernel
import KubeProxyModel
import Logging
import NFTablesRules

/// `verify`: what a fresh full sync of the current objects writes, made by the real proxier in a
/// scratch network namespace (so the kernel itself normalises both sides), compared with this
/// namespace's kernel, kube-proxy's rules only.
public struct Verifier: Sendable {
    /// Reads this namespace's kernel.
    let runner: any CommandRunner
    /// Adds, uses and deletes the scratch namespace: a runner outside any `ip netns exec` (a
    /// namespace added inside one is not visible outside it).
    let scratchRunner: any CommandRunner
    let logger: Logger

    public init(runner: any CommandRunner, scratchRunner: any CommandRunner = SubprocessCommandRunner(), logger: Logger) {
        self.runner = runner
        self.scratchRunner = scratchRunner
        self.logger = logger
    }

    /// A verification that could not be made (the scratch sync failed, a tool failed).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The differences between this namespace's kernel and a fresh sync of `inputs` in `mode`
    /// (`iptables` on `backend`, `nftables`, or `ipvs` with `ipvs`'s settings); empty when there is no drift.
    public func differences(mode: ProxyMode, inputs: ProxierInputs, backend: IPTablesBackend, ipvs: IPVSSettings = .init()) async throws -> [String] {
        try await differences(mode: mode, state: inputs.state, options: inputs.options, backend: backend, ipvs: ipvs)
    }

    /// The differences between this namespace's kernel and a fresh sync of `state` with `options`.
    public func differences(mode: ProxyMode, state: ProxyState, options: IPTablesCompilerOptions, backend: IPTablesBackend,
                            ipvs: IPVSSettings = .init()) async throws -> [String] {
        let scratch = "skp-verify-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        let add = try await scratchRunner.run("ip", ["netns", "add", scratch])
        guard add.succeeded else { throw Failure(description: "ip netns add \(scratch): \(add.stderr)") }
        do {
            let found = try await compare(mode: mode, state: state, options: options, backend: backend, ipvs: ipvs,
                                          there: NamespacedRunner(namespace: scratch, base: scratchRunner))
            _ = try? await scratchRunner.run("ip", ["netns", "del", scratch])
            return found
        } catch {
            _ = try? await scratchRunner.run("ip", ["netns", "del", scratch])
            throw error
        }
    }

    private func compare(mode: ProxyMode, state: ProxyState, options: IPTablesCompilerOptions, backend: IPTablesBackend,
                         ipvs: IPVSSettings, there: NamespacedRunner) async throws -> [String] {
        let family = state.family
        var logger = self.logger
        logger.logLevel = .warning   // the scratch sync's own lines are not news
        switch mode {
        case .nftables:
            let proxier = try ProxierFactory(mode: .nftables, backend: backend, runner: there).make(options: options, family: family, logger: logger)
            let outcome = await proxier.sync(state)
            guard outcome.succeeded else { throw Failure(description: "the fresh sync failed: \(outcome.error ?? "")") }
            let nftFamily = family == .ipv4 ? "ip" : "ip6"
            let live = try await runner.run("nft", ["list", "table", nftFamily, NFTablesCompiler.table])
            guard live.succeeded else { return ["table \(nftFamily) \(NFTablesCompiler.table): missing"] }
            let expected = try await there.run("nft", ["list", "table", nftFamily, NFTablesCompiler.table])
            return NFTablesDrift.differences(live: live.stdout, expected: expected.stdout)
        case .iptables:
            let proxier = try ProxierFactory(mode: .iptables, backend: backend, runner: there).make(options: options, family: family, logger: logger)
            let outcome = await proxier.sync(state)
            guard outcome.succeeded else { throw Failure(description: "the fresh sync failed: \(outcome.error ?? "")") }
            return try await iptablesDifferences(family: family, backend: backend, there: there)
        case .ipvs:
            return try await compareIPVS(state: state, options: options, backend: backend, settings: ipvs, there: there, logger: logger)
        }
    }
}
