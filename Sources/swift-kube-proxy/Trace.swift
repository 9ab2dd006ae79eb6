import ArgumentParser
import Foundation
import KubeProxyKernel
import KubeProxyModel
import KubeProxyRuntime
import PacketTracer

/// `trace`: explains, rule by rule, what the compiled ruleset (or with `--live`, the kernel's) does
/// with one new connection.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Walk the compiled rules (--live: this node's kernel rules) with one packet and print every chain entered and rule evaluated.")

    @OptionGroup var proxy: ProxyOptions
    @OptionGroup var host: HostOptions

    @Option(help: "Source address of the packet.") var src: String
    @Option(help: "Destination address of the packet.") var dst: String
    @Option(help: "Destination port.") var dport: Int
    @Option(name: .customLong("protocol"), help: "tcp, udp or sctp.") var proto: String = "tcp"
    @Option(help: "text or json.") var output: String = "text"
    @Flag(help: "Walk the rules this network namespace's kernel holds (iptables-save, nft list table) instead of compiling --manifests; the mode comes from --config/--proxy-mode, else from what the kernel holds. Also looks the flow up in conntrack, and with --manifests compares the rules with a fresh sync.")
    var live = false

    func run() async throws {
        let config = try proxy.configuration()
        guard let source = IPAddress(sloppy: src) else { throw ValidationError("--src: \"\(src)\" is not an address") }
        guard let destination = IPAddress(sloppy: dst) else { throw ValidationError("--dst: \"\(dst)\" is not an address") }
        guard let l4 = L4Protocol(rawValue: proto.uppercased()) else { throw ValidationError("--protocol: must be tcp, udp or sctp") }
        guard (1...65535).contains(dport) else { throw ValidationError("--dport: must be between 1 and 65535") }
        guard ["text", "json"].contains(output) else { throw ValidationError("--output: must be text or json") }
        let packet = Packet(source: source, destination: destination, destinationPort: dport, protocol: l4)
        if live { return try await runLive(packet, config: config) }
        let manifests = try proxy.loadManifests()
        let runner = SubprocessCommandRunner()
        let features = try await host.features(backend: host.kernelFeatures == nil ? try await proxy.resolvedBackend(runner: runner) : .nft, runner: runner)
        let addresses = try host.addresses()
        // The destination's family: on a dual-stack node each family has its own rules.
        let inputs = ProxierInputs(config: config, manifests: manifests, hostname: HostFacts.hostname(),
                                   hostAddresses: addresses, features: features, family: destination.family)
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
        try emit(result, packet: packet)
    }

    /// Prints `result` as text (with `header` and `footer` lines) or as json (with `json`'s keys added).
    func emit(_ result: TraceResult, packet: Packet, header: [String] = [], footer: [String] = [], json: [String: Any] = [:]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(result)
        if output == "json" && !json.isEmpty, var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
            object.merge(json) { _, added in added }
            data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        }
        if output == "json" { return print(String(decoding: data, as: UTF8.self)) }
        let what = "\(packet.protocol.lowercased) \(packet.source) -> \(packet.destination):\(packet.destinationPort)"
        print((header + [TraceText.render(result, packet: what)] + footer).joined(separator: "\n"))
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
