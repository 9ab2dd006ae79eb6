import ArgumentParser
import Foundation
import KubeProxyModel
import LabSockets

/// `skp-lab`: the servers and clients of the network-namespace lab (see lab/lab.sh) and the checks
/// that run where Swift Testing cannot (the IPVS VM). Not part of the product binary.
@main
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "skp-lab",
                                                    abstract: "Lab tools: a pod server and a client that tallies who answers.",
                                                    subcommands: [Serve.self, Probe.self, Hold.self, Latency.self, LabIPVSCheck.self, LabPartialSync.self])

    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer TCP connections and UDP datagrams with a name.")
        @Option(help: "The name to answer with.") var name: String
        @Option(help: "TCP ports (comma-separated).") var tcp: String = ""
        @Option(help: "UDP ports (comma-separated).") var udp: String = ""
        @Option(help: "TCP ports (comma-separated) that keep each connection open, answering every line with the name.") var hold: String = ""
        @Flag(help: "Listen on IPv6 instead of IPv4.") var ipv6 = false

        func run() throws {
            try LabServer(name: name, tcpPorts: LabServer.ports(tcp), udpPorts: LabServer.ports(udp), holdPorts: LabServer.ports(hold),
                          family: ipv6 ? .ipv6 : .ipv4).run()
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open one TCP connection to a hold port, print who answered, keep it open until a file appears, then ask again on the same connection and close it with a reset.")
        @Option(help: "Destination address.") var dst: String
        @Option(help: "Destination port.") var port: Int
        @Option(help: "Keep the connection until this file exists.") var untilFile: String
        @Option(help: "Give up waiting after this many seconds.") var seconds: Int = 120

        func run() throws {
            let hold = LabHold(destination: try parseAddress(dst, "--dst"), port: port)
            FileHandle.standardOutput.write(Data("hold: connected \(hold.connect())\n".utf8))
            let deadline = Date().addingTimeInterval(TimeInterval(seconds))
            while !FileManager.default.fileExists(atPath: untilFile) && Date() < deadline { usleep(100_000) }
            FileHandle.standardOutput.write(Data("hold: after \(hold.ask())\n".utf8))
            hold.reset()
        }
    }

    struct Latency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time new connections (connect, read, close) and print p50/p90/p99 in µs as JSON.")
        @Option(help: "Destination address.") var dst: String
        @Option(help: "Destination port.") var port: Int
        @Option(help: "How many measured connections (a tenth more are made first to warm up).") var count: Int = 1000

        func run() throws {
            print(try LabLatency(destination: try parseAddress(dst, "--dst"), port: port, count: count).run().json())
        }
    }

    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connect (or send) N times and print who answered, one line per name with its count.")
        @Option(help: "Destination address.") var dst: String
        @Option(help: "Destination port.") var port: Int
        @Flag(help: "Use UDP instead of TCP.") var udp = false
        @Option(help: "How many connections or datagrams.") var count: Int = 1
        @Option(help: "Source address to bind.") var src: String?
        @Option(help: "Source port to bind (UDP: one socket, one flow).") var sport: Int?
        @Option(help: "Timeout per attempt, milliseconds.") var timeout: Int = 1000
        @Flag(help: "Print each outcome on its own line, in order, instead of a tally.") var each = false

        func run() throws {
            let outcomes = LabProbe(destination: try parseAddress(dst, "--dst"), port: port, udp: udp, count: count, source: try src.map { try parseAddress($0, "--src") },
                                    sourcePort: sport, timeoutMilliseconds: timeout).run()
            (each ? outcomes : LabProbe.tally(outcomes)).forEach { print($0) }
        }
    }
}

/// `text` as an address, or a validation error naming `option`.
func parseAddress(_ text: String, _ option: String) throws -> IPAddress {
    guard let ip = IPAddress(sloppy: text) else { throw ValidationError("\(option): not an address") }
    return ip
}
