import Foundation
import KubeProxyKernel
import KubeProxyModel
import Logging

/// The conntrack settings of `KubeProxyConfiguration.conntrack`, applied once at start as
/// upstream's `platformSetup` does: the per-namespace timeouts (TCP established 24 h and close-wait
/// 1 h by default; `tcpBeLiberal`, UDP timeouts when set), and the table size, `max(maxPerCore ×
/// CPUs, min)`, which is global to the host: written only from the host's own network namespace,
/// and only to raise it.
public enum ConntrackStartup {
    /// One sysctl under /proc/sys and the value wanted.
    public struct Setting: Hashable, Sendable {
        public var path: String
        public var value: String
    }

    /// The per-namespace settings `config` asks for (upstream's defaults for unset fields).
    public static func namespaceSettings(_ config: KubeProxyConfiguration) -> [Setting] {
        let c = config.conntrack
        func seconds(_ d: GoDuration?, default fallback: Int) -> Int { d.map { Int($0.seconds.rounded()) } ?? fallback }
        var list: [Setting] = []
        // 0 leaves the kernel's value, as upstream.
        for (name, value) in [("nf_conntrack_tcp_timeout_established", seconds(c?.tcpEstablishedTimeout, default: 86400)),
                              ("nf_conntrack_tcp_timeout_close_wait", seconds(c?.tcpCloseWaitTimeout, default: 3600)),
                              ("nf_conntrack_udp_timeout", seconds(c?.udpTimeout, default: 0)),
                              ("nf_conntrack_udp_timeout_stream", seconds(c?.udpStreamTimeout, default: 0))] where value > 0 {
            list.append(Setting(path: "net/netfilter/" + name, value: String(value)))
        }
        if c?.tcpBeLiberal == true { list.append(Setting(path: "net/netfilter/nf_conntrack_tcp_be_liberal", value: "1")) }
        return list
    }

    /// The table size `config` asks for on a host with `cpus` CPUs (0: leave it).
    public static func tableSize(_ config: KubeProxyConfiguration, cpus: Int) -> Int {
        let perCore = config.conntrack?.maxPerCore ?? 32768, floor = config.conntrack?.min ?? 131072
        return perCore == 0 ? 0 : max(perCore * cpus, floor)
    }

    /// Whether this process is in the host's network namespace (PID 1's), where global settings belong.
    static func inHostNetworkNamespace() -> Bool {
        let own = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        let host = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/1/ns/net")
        return own != nil && own == host
    }

    /// Applies the settings; a setting the kernel refuses is logged and skipped (as upstream, a
    /// read-only /proc/sys must not stop the proxy). Returns the settings written.
    @discardableResult
    public static func apply(_ config: KubeProxyConfiguration, logger: Logger) -> [Setting] {
        var wanted = namespaceSettings(config)
        let size = tableSize(config, cpus: ProcessInfo.processInfo.activeProcessorCount)
        if size > 0, inHostNetworkNamespace(), let current = HostFacts.sysctl("net/netfilter/nf_conntrack_max").flatMap(Int.init), current < size {
            wanted.append(Setting(path: "net/netfilter/nf_conntrack_max", value: String(size)))
        }
        var written: [Setting] = []
        for setting in wanted where HostFacts.sysctl(setting.path) != setting.value {
            do {
                try HostFacts.setSysctl(setting.path, setting.value)
                written.append(setting)
            } catch {
                logger.warning("cannot set a conntrack sysctl", metadata: ["sysctl": "\(setting.path)", "value": "\(setting.value)", "error": "\(error)"])
            }
        }
        if !written.isEmpty { logger.info("conntrack set up", metadata: ["sysctls": "\(written.map { "\($0.path)=\($0.value)" })"]) }
        return written
    }
}
