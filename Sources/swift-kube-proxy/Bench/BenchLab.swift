import Foundation
import KubeProxyKernel
import KubeProxyModel
import LabSockets

/// The benchmark's own network namespaces: a node, one pod serving every endpoint port, and a
/// client pod. Created for one measurement and deleted after it (also on failure).
struct BenchLab {
    let prefix: String
    let binary: String
    let runner = SubprocessCommandRunner()
    static let podIP = IPAddress.v4(0xC612_0102)      // 198.18.1.2
    static let clientIP = IPAddress.v4(0xC612_010E)   // 198.18.1.14
    /// The node's own addresses (towards the pod and the client).
    static let nodeAddresses: [IPAddress] = [.v4(0xC612_0101), .v4(0xC612_010D)]

    var node: String { prefix + "node" }
    var client: String { prefix + "client" }
    var pod: String { prefix + "pod" }

    private func ip(_ args: String...) async throws {
        let r = try await runner.run("ip", args)
        guard r.succeeded else { throw CommandError(executable: "ip", detail: "\(args.joined(separator: " ")): \(r.stderr)") }
    }

    /// Creates the namespaces and starts the pod's server on `ports`.
    func up(ports: [Int]) async throws {
        await down()
        for ns in [node, client, pod] {
            try await ip("netns", "add", ns)
            try await ip("-n", ns, "link", "set", "lo", "up")
        }
        _ = try await runner.run("ip", ["netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for (ns, nodeSide, nodeAddr, podAddr) in [(pod, "vpod", "198.18.1.1/30", "198.18.1.2/30"), (client, "vclient", "198.18.1.13/30", "198.18.1.14/30")] {
            try await ip("link", "add", nodeSide, "netns", node, "type", "veth", "peer", "name", "eth0", "netns", ns)
            try await ip("-n", node, "addr", "add", nodeAddr, "dev", nodeSide)
            try await ip("-n", node, "link", "set", nodeSide, "up")
            try await ip("-n", ns, "addr", "add", podAddr, "dev", "eth0")
            try await ip("-n", ns, "link", "set", "eth0", "up")
            try await ip("-n", ns, "route", "add", "default", "via", String(nodeAddr.split(separator: "/")[0]))
        }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/bin/ip")
        server.arguments = ["netns", "exec", pod, binary, "bench-pod", "serve", "--name", "pod", "--tcp", ports.map(String.init).joined(separator: ",")]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        for _ in 0..<50 {
            let r = try? await runner.run("ip", ["netns", "exec", client, binary, "bench-pod", "probe", "--dst", "198.18.1.2", "--port", String(ports[0]), "--timeout", "200"])
            if r?.stdout.hasPrefix("pod") == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandError(executable: "bench-pod serve", detail: "the benchmark pod did not answer")
    }

    /// Stops what runs in the namespaces and deletes them.
    func down() async {
        for ns in [pod, client, node] {
            if let pids = try? await runner.run("ip", ["netns", "pids", ns]) {
                for pid in pids.stdout.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
            }
            _ = try? await runner.run("ip", ["netns", "del", ns])
        }
    }

    /// New-connection cost from the client pod to `destination:port`.
    func latency(_ destination: IPAddress, port: Int, samples: Int) async throws -> LabLatency.Summary {
        let r = try await runner.run("ip", ["netns", "exec", client, binary, "bench-pod", "latency", "--dst", destination.description,
                                            "--port", String(port), "--count", String(samples)])
        guard r.succeeded else { throw CommandError(executable: "bench-pod latency", detail: r.stderr) }
        return try JSONDecoder().decode(LabLatency.Summary.self, from: Data(r.stdout.utf8))
    }
}
