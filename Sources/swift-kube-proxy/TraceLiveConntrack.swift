import Foundation
import KubeProxyKernel
import KubeProxyModel
import PacketTracer

/// An existing conntrack entry of the traced flow (same source, destination, port and protocol;
/// any source port). The kernel sends its packets the way the entry says: nat rules are consulted
/// only for a connection's first packet.
struct ConntrackFlow: Equatable {
    /// `198.18.1.14:40000 -> 198.18.10.10:80`.
    var original: String
    /// The TCP state (`ESTABLISHED`, `TIME_WAIT`), nil for other protocols.
    var state: String?
    /// Where the entry sends the flow when it is DNATed (`198.18.1.2:8080`), else nil.
    var dnatTo: String?

    /// The flow's entries in this namespace's conntrack table, with `conntrack -L`.
    /// - Throws: ``CommandError`` when conntrack cannot run; a description of its failure otherwise.
    static func lookup(_ packet: Packet, runner: any CommandRunner) async throws -> [ConntrackFlow] {
        let args = ["-L", "-f", packet.destination.family == .ipv4 ? "ipv4" : "ipv6", "-p", packet.protocol.lowercased,
                    "--orig-src", packet.source.description, "--orig-dst", packet.destination.description,
                    "--orig-port-dst", String(packet.destinationPort)]
        let result = try await runner.run("conntrack", args)
        guard result.succeeded else { throw CommandError(executable: "conntrack", detail: String(result.stderr.trimmingSpaces())) }
        return result.stdout.split(separator: "\n").compactMap { parse(String($0)) }
    }

    /// One line of `conntrack -L`: `tcp 6 119 TIME_WAIT src=A dst=B sport=P dport=Q src=… [ASSURED] …`;
    /// the first `src`/`dst`/`sport`/`dport` are the original direction, the second the reply.
    static func parse(_ line: String) -> ConntrackFlow? {
        let words = line.split(separator: " ").map(String.init)
        var original: [String: String] = [:], reply: [String: String] = [:]
        for word in words {
            let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, ["src", "dst", "sport", "dport"].contains(pair[0]) else { continue }
            if original[pair[0]] == nil { original[pair[0]] = pair[1] } else if reply[pair[0]] == nil { reply[pair[0]] = pair[1] }
        }
        guard let src = original["src"], let dst = original["dst"], let sport = original["sport"], let dport = original["dport"],
              let replySource = reply["src"], let replyPort = reply["sport"] else { return nil }
        let state = words.count > 3 && words[3].allSatisfy({ $0.isUppercase || $0 == "_" }) ? words[3] : nil
        let dnat = replySource != dst || replyPort != dport
        return ConntrackFlow(original: "\(endpoint(src, sport)) -> \(endpoint(dst, dport))", state: state,
                             dnatTo: dnat ? endpoint(replySource, replyPort) : nil)
    }

    /// The entry for `--output json`.
    var json: [String: Any] { ["original": original, "state": state.map { $0 as Any } ?? NSNull(), "dnatTo": dnatTo.map { $0 as Any } ?? NSNull()] }

    static func endpoint(_ address: String, _ port: String) -> String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// `conntrack: an existing flow … is DNATed to … (the rules are not consulted for its packets)`.
    var sentence: String {
        let what = "conntrack: an existing flow \(original)\(state.map { " (\($0))" } ?? "")"
        let goes = dnatTo.map { "is DNATed to \($0)" } ?? "is not DNATed (its packets keep the Service address)"
        return "\(what) \(goes) (the rules are not consulted for its packets)"
    }

    /// The text lines for `flows` (or the failed lookup).
    static func lines(_ flows: Result<[ConntrackFlow], any Error>, packet: Packet) -> [String] {
        switch flows {
        case .failure(let error):
            return ["conntrack: not looked up (\(error))"]
        case .success(let flows) where flows.isEmpty:
            return ["conntrack: no existing flow from \(packet.source) to \(endpoint(packet.destination.description, String(packet.destinationPort))); a new connection meets the rules above"]
        case .success(let flows):
            let shown = flows.prefix(5).map(\.sentence)
            let more = flows.count > 5 ? ["conntrack: … and \(flows.count - 5) more flows"] : []
            return shown + more + ["conntrack: a new connection (another source port) meets the rules above"]
        }
    }
}
