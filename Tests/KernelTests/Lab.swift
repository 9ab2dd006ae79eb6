import Foundation
import Testing
import Yams

/// The network-namespace lab of lab/lab.sh, driven from a test: namespaces named with a unique
/// prefix, always deleted at the end (also when the test fails).
final class Lab: @unchecked Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = ProcessInfo.processInfo.environment["SKP_BINARY"] ?? root.appendingPathComponent(".build/debug/swift-kube-proxy").path
    /// The lab harness (pod servers, probes): `skp-lab`, beside the product binary.
    static let labBinary = ProcessInfo.processInfo.environment["SKP_LAB_BINARY"] ?? root.appendingPathComponent(".build/debug/skp-lab").path

    /// Why kernel tests cannot run here, or nil when they can.
    static let unavailableReason: String? = {
        if getuid() != 0 { return "kernel tests need root (network namespaces)" }
        for path in [binary, labBinary] where !FileManager.default.isExecutableFile(atPath: path) {
            return "build the binaries first (swift build): \(path) is missing"
        }
        for tool in ["ip", "iptables-legacy-restore", "iptables-nft-restore", "conntrack", "nft"] where shell("command -v \(tool)").status != 0 {
            return "\(tool) is not installed (make test installs it)"
        }
        return nil
    }()

    let prefix: String
    let directory: URL
    private var proxy: pid_t?

    init(prefix: String) throws {
        self.prefix = prefix
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("skp-\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let up = Self.shell("'\(Self.root.path)/lab/lab.sh' up \(prefix) '\(Self.labBinary)'")
        if up.status != 0 { throw LabError(message: "lab up failed: \(up.output)") }
    }

    deinit { tearDown() }

    /// Stops the proxy and deletes every namespace of this lab.
    func tearDown() {
        _ = stopProxy()
        _ = Self.shell("'\(Self.root.path)/lab/lab.sh' down \(prefix)")
        try? FileManager.default.removeItem(at: directory)
    }

    /// The example cluster as mutable documents.
    static func exampleDocuments() throws -> [[String: Any]] {
        let text = try String(contentsOf: root.appendingPathComponent("examples/cluster.yaml"), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    var manifestPath: String { directory.appendingPathComponent("cluster.json").path }

    /// Writes `documents` as a JSON `kind: List` atomically (the proxy never sees half a file).
    func writeManifests(_ documents: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: ["apiVersion": "v1", "kind": "List", "items": documents], options: [.sortedKeys])
        let temp = directory.appendingPathComponent("cluster.json.tmp")
        try data.write(to: temp)
        guard rename(temp.path, manifestPath) == 0 else { throw LabError(message: "rename: errno \(errno)") }
    }

    /// Starts `run` in the node namespace and waits for the first sync to be in the kernel.
    /// - Parameter mode: `iptables-legacy`, `iptables-nft`, `iptables-tree` (legacy backend, the
    ///   dispatch tree with leaves of 2 so that the lab's few Services make a real tree) or `nftables`.
    func startProxy(mode: String) throws {
        let flags = switch mode {
        case "nftables": "--proxy-mode nftables"
        case "nftables-maps": "--proxy-mode nftables --nftables-layout endpoint-maps"
        case "iptables-tree": "--proxy-mode iptables --iptables-backend legacy --iptables-dispatch tree/2"
        default: "--proxy-mode iptables --iptables-backend \(mode.dropFirst("iptables-".count))"
        }
        try startProxy(flags: "--manifests '\(manifestPath)' \(flags)")
    }

    /// Starts `run --config examples/config.yaml <flags>` in the node namespace and waits for the first sync.
    /// `path`, when given, goes before `PATH` (wrapped tools).
    func startProxy(flags: String, path: String? = nil) throws {
        let log = directory.appendingPathComponent("proxy.log")
        try? FileManager.default.removeItem(at: log)   // a restart must not find the last run's "sync done"
        let command = "exec \(path.map { "env PATH='\($0)':\"$PATH\" " } ?? "")ip netns exec \(prefix)node '\(Self.binary)' run --config '\(Self.root.appendingPathComponent("examples/config.yaml").path)'"
            + " \(flags) >'\(log.path)' 2>&1 </dev/null"
        guard let pid = Self.spawn(["/bin/bash", "-c", command]) else { throw LabError(message: "cannot start the proxy") }
        proxy = pid
        try waitFor("first sync", seconds: 30) { self.proxyLog.contains("sync done") }
    }

    /// Runs `verify` in the node namespace with the example config, this lab's manifests and `flags`.
    func verify(_ flags: String) -> (status: Int32, output: String) {
        inNamespace("node", "'\(Self.binary)' verify --config '\(Self.root.appendingPathComponent("examples/config.yaml").path)' --manifests '\(manifestPath)' \(flags)")
    }

    /// Kills the proxy with SIGKILL (a crash): nothing of it runs, its rules stay.
    func killProxy() {
        guard let pid = proxy else { return }
        proxy = nil
        kill(pid, SIGKILL)
        _ = Self.wait(pid)
    }

    /// The proxy's resident memory in KiB (`VmRSS`), when it runs.
    var proxyRSS: Int? {
        guard let pid = proxy, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    /// Stops the proxy with SIGTERM and returns its exit status.
    func stopProxy() -> Int32 {
        guard let pid = proxy else { return -1 }
        proxy = nil
        kill(pid, SIGTERM)
        return Self.wait(pid)
    }

    var proxyLog: String { (try? String(contentsOf: directory.appendingPathComponent("proxy.log"), encoding: .utf8)) ?? "" }

    /// Runs `skp-lab probe` in namespace `from` and returns each outcome in order.
    func probe(from: String, dst: String, port: Int, count: Int = 1, udp: Bool = false, src: String? = nil,
               sport: Int? = nil, timeout: Int = 1500) -> [String] {
        var args = "probe --each --dst \(dst) --port \(port) --count \(count) --timeout \(timeout)"
        if udp { args += " --udp" }
        if let src { args += " --src \(src)" }
        if let sport { args += " --sport \(sport)" }
        let r = Self.shell("ip netns exec \(prefix)\(from) '\(Self.labBinary)' \(args)")
        return r.output.split(separator: "\n").map(String.init)
    }

    /// Runs a command in a namespace of the lab.
    func inNamespace(_ ns: String, _ command: String) -> (status: Int32, output: String) {
        Self.shell("ip netns exec \(prefix)\(ns) \(command)")
    }

    /// Polls `condition` every 100 ms for up to `seconds`.
    func waitFor(_ what: String, seconds: Double = 10, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw LabError(message: "timed out waiting for \(what); proxy log:\n\(proxyLog)")
    }

    /// Runs a bash command and returns its status and combined output. The output goes through a
    /// file, not a pipe, so that servers the command leaves running cannot keep a reader waiting.
    @discardableResult
    static func shell(_ command: String) -> (status: Int32, output: String) {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("skp-shell-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        guard let pid = spawn(["/bin/bash", "-c", "(\(command)) >'\(out.path)' 2>&1 </dev/null"]) else { return (-1, "spawn failed") }
        let status = wait(pid)
        return (status, (try? String(contentsOf: out, encoding: .utf8)) ?? "")
    }

    /// Starts a program (posix_spawn); returns its pid.
    static func spawn(_ argv: [String]) -> pid_t? {
        var pid: pid_t = 0
        let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        // The child starts with no blocked signals and default handlers for SIGTERM and SIGINT,
        // whatever the test runner does with them, so that stopping it works.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return posix_spawn(&pid, argv[0], nil, &attributes, cargs, environ) == 0 ? pid : nil
    }

    /// Waits for `pid` and returns its exit status (128 + signal when killed).
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

struct LabError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
