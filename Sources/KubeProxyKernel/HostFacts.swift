import Foundation
import IPTablesRules
import KubeProxyCore
import KubeProxyModel
#if canImport(Glibc)
import Glibc
#endif

/// Facts read from the host (this network namespace): interface addresses, sysctls, tool versions.
public enum HostFacts {
    /// The addresses of this network namespace's interfaces (`getifaddrs`), except those of
    /// `excludedInterface` (IPVS mode leaves out `kube-ipvs0`'s).
    public static func interfaceAddresses(excluding excludedInterface: String? = nil) -> [IPAddress] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return [] }
        defer { freeifaddrs(head) }
        var result: [IPAddress] = []
        var cursor = head
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let sa = entry.pointee.ifa_addr else { continue }
            if let excludedInterface, let name = entry.pointee.ifa_name, String(cString: name) == excludedInterface { continue }
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                let addr = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                result.append(.v4(UInt32(bigEndian: addr)))
            case AF_INET6:
                let bytes = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                    withUnsafeBytes(of: p.pointee.sin6_addr) { Array($0) }
                }
                var hi: UInt64 = 0, lo: UInt64 = 0
                for i in 0..<8 { hi = hi << 8 | UInt64(bytes[i]) }
                for i in 8..<16 { lo = lo << 8 | UInt64(bytes[i]) }
                result.append(.v6(hi, lo))
            default:
                continue
            }
        }
        return result
    }

    /// The host name, as kube-proxy uses it for the node name.
    public static func hostname() -> String {
        ProcessInfo.processInfo.hostName
    }

    /// Reads a sysctl (`net/ipv4/conf/all/route_localnet` style path under /proc/sys).
    public static func sysctl(_ path: String) -> String? {
        (try? String(contentsOfFile: "/proc/sys/" + path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes a sysctl of this network namespace.
    public static func setSysctl(_ path: String, _ value: String) throws {
        try value.write(toFile: "/proc/sys/" + path, atomically: false, encoding: .utf8)
    }

    /// Probes the optional features iptables and the kernel offer: `--random-fully` (iptables
    /// 1.6.2+), `nf_conntrack_tcp_be_liberal`. nfacct counters are not created, so none exist.
    public static func kernelFeatures(backend: IPTablesBackend, runner: any CommandRunner) async -> KernelFeatures {
        var features = KernelFeatures()
        if let r = try? await runner.run(backend.binary("iptables", family: .ipv4), ["--version"]), r.succeeded,
           let version = r.stdout.split(separator: " ").first(where: { $0.hasPrefix("v") }) {
            let parts = version.dropFirst().split(separator: ".").compactMap { Int($0) }
            features.randomFully = parts.lexicographicallyPrecedes([1, 6, 2]) == false
        }
        features.tcpBeLiberal = (sysctl("net/netfilter/nf_conntrack_tcp_be_liberal") ?? "0") != "0"
        return features
    }
}
