import Foundation
import KubeProxyKernel
import KubeProxyModel
import Logging

/// What IPVS mode sets up once, at start (upstream's `NewProxier`): the sysctls IPVS needs in this
/// network namespace, and the connection timeouts from the configuration.
public enum IPVSStartup {
    /// One sysctl IPVS mode wants, written only when it differs.
    public struct Sysctl: Hashable, Sendable {
        public var path: String
        public var value: String
    }

    /// The sysctls for this kernel (`release` as uname reports it) and configuration.
    public static func sysctls(kernelRelease: String, strictARP: Bool) -> [Sysctl] {
        var list = [Sysctl(path: "net/ipv4/vs/conntrack", value: "1")]
        // conn_reuse_mode=0 works around a 1 s stall on port reuse that kernels 4.1 to 5.8 have.
        let version = kernelRelease.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        if version.count == 2, version.lexicographicallyPrecedes([5, 9]), !version.lexicographicallyPrecedes([4, 1]) {
            list.append(Sysctl(path: "net/ipv4/vs/conn_reuse_mode", value: "0"))
        }
        list += [Sysctl(path: "net/ipv4/vs/expire_nodest_conn", value: "1"),
                 Sysctl(path: "net/ipv4/vs/expire_quiescent_template", value: "1"),
                 Sysctl(path: "net/ipv4/ip_forward", value: "1")]
        if strictARP {
            list += [Sysctl(path: "net/ipv4/conf/all/arp_ignore", value: "1"), Sysctl(path: "net/ipv4/conf/all/arp_announce", value: "2")]
        }
        return list
    }

    /// The running kernel's release (`uname -r`).
    public static func kernelRelease() -> String {
        (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    /// Sets the sysctls and timeouts; returns the sysctls it changed.
    /// - Throws: when a sysctl cannot be written or IPVS refuses the timeouts.
    @discardableResult
    public static func prepare(ipvs: IPVSKernel, config: KubeProxyConfiguration, logger: Logger) throws -> [Sysctl] {
        var changed: [Sysctl] = []
        for sysctl in sysctls(kernelRelease: kernelRelease(), strictARP: config.ipvs?.strictARP ?? false)
        where HostFacts.sysctl(sysctl.path) != sysctl.value {
            do { try HostFacts.setSysctl(sysctl.path, sysctl.value) } catch {
                throw IPVSStartupError(message: "cannot set sysctl \(sysctl.path)=\(sysctl.value): \(error)")
            }
            changed.append(sysctl)
        }
        let seconds = { (d: GoDuration?) in Int((d?.seconds ?? 0).rounded()) }
        let (tcp, fin, udp) = (seconds(config.ipvs?.tcpTimeout), seconds(config.ipvs?.tcpFinTimeout), seconds(config.ipvs?.udpTimeout))
        if tcp > 0 || fin > 0 || udp > 0 { try ipvs.setTimeouts(tcp: tcp, tcpFin: fin, udp: udp) }
        logger.info("IPVS prepared", metadata: ["sysctlsChanged": "\(changed.map { "\($0.path)=\($0.value)" })"])
        return changed
    }
}

/// IPVS mode could not start.
public struct IPVSStartupError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
