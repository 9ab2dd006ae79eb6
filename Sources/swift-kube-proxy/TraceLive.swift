import ArgumentParser
import Foundation
import IPTablesRules
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import PacketTracer

/// `trace --live`: the packet walked through the rules this network namespace's kernel holds,
/// then the conntrack entries that would carry it past them, and (with `--manifests`) whether
/// the live rules differ from a fresh sync.
extension Trace {
    func runLive(_ packet: Packet, config: KubeProxyConfiguration) async throws {
        let runner = SubprocessCommandRunner(timeout: .seconds(30))
        let family = packet.destination.family
        let configured: ProxyMode? = (config.mode ?? "").isEmpty ? nil : config.proxyMode
        let backends: [IPTablesBackend] = proxy.backend == "auto" ? [.nft, .legacy] : [try await proxy.resolvedBackend(runner: runner)]
        let found = await LiveRules.read(family: family, backends: backends, ipvs: configured == .ipvs, runner: runner)
        guard let (rules, why) = found.rules(for: configured) else {
            let nft = "no `kube-proxy` table in nft family \(family == .ipv4 ? "ip" : "ip6")"
            let ipt = "no nat KUBE-SERVICES chain in \(backends.map { $0.binary("iptables-save", family: family) }.joined(separator: " or "))"
            if configured != .nftables, configured != .iptables, case .failure(let error)? = found.ipvs { try Self.fail("IPVS mode's state cannot be read: \(error)") }
            switch configured {
            case .nftables?: try Self.fail("\(nft) in this network namespace (the configuration says nftables mode)")
            case let mode?: try Self.fail("\(ipt) (the configuration says \(mode.rawValue) mode)")
            case nil: try Self.fail("no kube-proxy rules for \(family.rawValue) in this network namespace: \(nft), \(ipt)")
            }
        }
        let addresses = try host.addresses()
        let result = rules.trace(packet, localAddresses: Set(addresses))
        let conntrack: Result<[ConntrackFlow], any Error>
        do { conntrack = .success(try await ConntrackFlow.lookup(packet, runner: SubprocessCommandRunner(timeout: .seconds(5)))) } catch { conntrack = .failure(error) }
        let drift = proxy.manifests.isEmpty ? nil : await drift(rules, config: config, family: family, addresses: addresses, runner: runner)
        let header = "live: \(rules.mode.rawValue) mode (\(why)), rules read with `\(rules.source(family))`"
        var json: [String: Any] = ["live": ["mode": rules.mode.rawValue, "source": rules.source(family), "why": why]]
        switch conntrack {
        case .success(let flows): json["conntrack"] = flows.map(\.json)
        case .failure(let error): json["conntrackError"] = "\(error)"
        }
        switch drift {
        case .success(let lines)?: json["drift"] = lines
        case .failure(let error)?: json["driftError"] = "\(error)"
        case nil: break
        }
        try emit(result, packet: packet, header: [header], footer: ConntrackFlow.lines(conntrack, packet: packet) + Self.driftLines(drift), json: json)
    }

    /// The live rules' differences from a fresh sync of `--manifests` (``Verifier``).
    func drift(_ rules: LiveRules, config: KubeProxyConfiguration, family: IPFamily, addresses: [IPAddress],
               runner: any CommandRunner) async -> Result<[String], any Error> {
        do {
            var config = config
            config.mode = rules.mode.rawValue
            let inputs = ProxierInputs(config: config, manifests: try proxy.loadManifests(), hostname: HostFacts.hostname(), hostAddresses: addresses,
                                       features: try await host.features(backend: rules.backend, runner: runner), family: family)
            let ipvs = Verifier.IPVSSettings(scheduler: config.resolvedIPVSScheduler, excludeCIDRs: (config.ipvs?.excludeCIDRs ?? []).compactMap { CIDR(sloppy: $0) })
            return .success(try await Verifier(runner: runner, logger: proxy.logger()).differences(mode: rules.mode, inputs: inputs, backend: rules.backend, ipvs: ipvs))
        } catch {
            return .failure(error)
        }
    }

    static func driftLines(_ result: Result<[String], any Error>?) -> [String] {
        switch result {
        case nil: return []
        case .failure(let error)?: return ["drift: not checked (\(error))"]
        case .success(let drift)? where drift.isEmpty: return ["drift: none (the live rules equal a fresh sync of the manifests)"]
        case .success(let drift)?: return ["drift: \(drift.count) difference\(drift.count == 1 ? "" : "s") from a fresh sync of the manifests (`verify` lists them all):"]
            + drift.prefix(5).map { "  " + ($0.count > 160 ? String($0.prefix(159)) + "…" : $0) }
        }
    }

    static func fail(_ message: String) throws -> Never {
        FileHandle.standardError.write(Data("trace --live: \(message)\n".utf8))
        throw ExitCode(1)
    }
}
