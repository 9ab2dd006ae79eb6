import ArgumentParser
import KubeProxyModel
import LabSockets

/// What `bench` runs of its own binary inside its namespaces: the pod's server and the client's
/// probe and latency measurement. Hidden (`bench-pod serve|probe|latency`); the lab's are `skp-lab`.
struct BenchPod: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-pod", abstract: "bench's pod server and clients (run by bench itself).",
                                                    shouldDisplay: false, subcommands: [Serve.self, Probe.self, Latency.self])

    /// The benchmark pod: answers each TCP connection with its name.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Answer TCP connections with a name (bench's pod).")
        @Option(help: "The name to answer with.") var name: String
        @Option(help: "TCP ports (comma-separated).") var tcp: String

        func run() throws {
            try LabServer(name: name, tcpPorts: LabServer.ports(tcp)).run()
        }
    }

    /// Whether the pod answers: `name count` per answer, as `skp-lab probe`.
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Connect N times and print who answered (bench's readiness check).")
        @Option(help: "Destination address.") var dst: String
        @Option(help: "Destination port.") var port: Int
        @Option(help: "How many connections.") var count: Int = 1
        @Option(help: "Timeout per attempt, milliseconds.") var timeout: Int = 1000

        func run() throws {
            guard let destination = IPAddress(sloppy: dst) else { throw ValidationError("--dst: not an address") }
            LabProbe.tally(LabProbe(destination: destination, port: port, count: count, timeoutMilliseconds: timeout).run()).forEach { print($0) }
        }
    }

    /// New-connection cost as one line of JSON (``LabLatency/Summary``), as `skp-lab latency`.
    struct Latency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time new connections and print p50/p90/p99 in µs as JSON (bench's client).")
        @Option(help: "Destination address.") var dst: String
        @Option(help: "Destination port.") var port: Int
        @Option(help: "How many measured connections (a tenth more are made first to warm up).") var count: Int = 1000

        func run() throws {
            guard let destination = IPAddress(sloppy: dst) else { throw ValidationError("--dst: not an address") }
            print(try LabLatency(destination: destination, port: port, count: count).run().json())
        }
    }
}
