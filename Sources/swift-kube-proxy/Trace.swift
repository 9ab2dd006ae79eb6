import ArgumentParser
import Foundation
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import PacketTracer

/// `trace`: explains, rule by rule, what the compiled ruleset does with one new connection.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Walk the compiled rules with one packet and print every chain entered and rule evaluated.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var host: HostOptions

    @Option(help: "Source address of the packet.") var src: String
    @Option(help: "Destination address of the packet.") var dst: String
    @Option(help: "Destination port.") var dport: Int
    @Option(name: .customLong("protocol"), help: "tcp, udp or sctp.") var proto: String = "tcp"
    @Option(help: "text or json.") var output: String = "text"

    func run() async throws {
        let config = try proxy.configuration()
        let manifests = try proxy.loadManifests()
        guard let source = IPAddress(sloppy: src) else { throw ValidationError("--src: \"\(src)\" is not an address") }
        guard let destination = IPAddress(sloppy: dst) else { throw ValidationError("--dst: \"\(dst)\" is not an address") }
        guard let l4 = L4Protocol(rawValue: proto.uppercased()) else { throw ValidationError("--protocol: must be tcp, udp or sctp") }
        guard (1...65535).contains(dport) else { throw ValidationError("--dport: must be between 1 and 65535") }
        let runner = SubprocessCommandRunner()
        let features = try await host.features(backend: host.kernelFeatures == nil ? try await proxy.resolvedBackend(runner: runner) : .nft, runner: runner)
        let addresses = try host.addresses()
        // The destination's family: on a dual-stack node each family has its own rules.
        let inputs = ProxierInputs(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                   hostAddresses: addresses, features: features, family: destination.family)
        let packet = Packet(source: source, destination: destination, destinationPort: dport, protocol: l4)
        let result: TraceResult
        switch config.proxyMode {
        case .ipvs:
            let plan = inputs.firstSyncIPVS(scheduler: config.resolvedIPVSScheduler, localAddresses: addresses)
            result = try IPVSTracer(desired: plan.desired, payload: plan.payload, family: inputs.state.family, localAddresses: Set(addresses)).trace(packet)
        case .nftables:
            result = NFTablesTracer(table: try inputs.firstSyncNFTablesState(), localAddresses: Set(addresses)).trace(packet)
        case .iptables:
            result = IPTablesTracer(dump: try inputs.kernelView(), localAddresses: Set(addresses)).trace(packet)
        }
        switch output {
        case "json":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        case "text":
            print(TraceText.render(result, packet: "\(l4.lowercased) \(source) -> \(destination):\(dport)"))
        default:
            throw ValidationError("--output: must be text or json")
        }
    }
}

/// The human-readable form of a trace.
enum TraceText {
    static func render(_ result: TraceResult, packet: String) -> String {
        var lines = ["packet: \(packet)"]
        for step in result.steps {
            let indent = String(repeating: "  ", count: step.depth + 1)
            switch step.kind {
            case .chain:
                lines.append("\(indent)[\(step.table)] \(step.chain)")
            case .rule:
                let mark = step.matched == true ? "✔" : "·"
                lines.append("\(indent)  \(mark) \(step.rule ?? "")")
                lines.append("\(indent)      → \(step.note)")
            }
        }
        lines.append("verdict: \(result.verdict)")
        if !result.candidates.isEmpty {
            lines.append("endpoints:")
            for c in result.candidates {
                lines.append("  \(c.endpoint)  probability \(String(format: "%.4f", c.probability))  via \(c.chain)")
            }
        }
        lines.append("masquerade: \(result.masquerade ? "yes (source NATed to the node)" : "no (client address kept)")")
        lines.append("rules evaluated: \(result.rulesEvaluated)")
        return lines.joined(separator: "\n")
    }
}
