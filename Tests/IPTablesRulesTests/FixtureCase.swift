import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyModel
import KubeProxyRuntime
import Yams

/// One upstream fixture case directory from Fixtures/iptables: its configuration, cluster and render arguments.
struct FixtureCase: CustomStringConvertible, Sendable {
    let directory: URL
    let caseDirectory: URL

    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/iptables")

    var description: String { directory.path.replacingOccurrences(of: Self.root.path + "/", with: "") }

    init(_ relative: String, caseDirectory: String? = nil) {
        directory = Self.root.appendingPathComponent(relative)
        self.caseDirectory = Self.root.appendingPathComponent(caseDirectory ?? relative)
    }

    /// The nearest file called `name`, walking up from the directory (the fixtures' lookup rule).
    func nearest(_ name: String) -> URL {
        var dir = directory
        while dir.path.hasPrefix(Self.root.path) {
            let candidate = dir.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        fatalError("no \(name) above \(directory.path)")
    }

    func text(_ name: String) throws -> String { try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }

    var caseInfo: [String: Any] {
        get throws { try Yams.load(yaml: String(contentsOf: nearest("case.yaml"), encoding: .utf8)) as? [String: Any] ?? [:] }
    }

    /// `--host-address` values and the `--kernel-features` list from `renderArgs`.
    func renderArgs() throws -> (hostAddresses: [IPAddress], features: KernelFeatures) {
        let args = (try caseInfo["renderArgs"] as? [String]) ?? []
        var hosts: [IPAddress] = []
        var features = KernelFeatures()
        var i = 0
        while i < args.count {
            if args[i] == "--host-address" { hosts.append(CIDR(sloppy: args[i + 1]).map { _ in IPAddress(sloppy: String(args[i + 1].split(separator: "/")[0]))! }!) }
            if args[i] == "--kernel-features" { features = try KernelFeatures(parsing: args[i + 1]) }
            i += 2
        }
        return (hosts, features)
    }

    func inputs(cluster: String = "cluster.yaml") throws -> ProxierInputs {
        var manifests = Manifests()
        try manifests.decode(String(contentsOf: nearest("config.yaml"), encoding: .utf8), source: "config.yaml")
        try manifests.decode(String(contentsOf: directory.appendingPathComponent(cluster), encoding: .utf8), source: cluster)
        let (hosts, features) = try renderArgs()
        return ProxierInputs(config: manifests.configurations.first ?? KubeProxyConfiguration(), manifests: manifests,
                             hostname: "test-node", hostAddresses: hosts, features: features)
    }
}
