import KubeProxyCore
import KubeProxyModel

/// Optional facts about the host's iptables and kernel that change the rules kube-proxy writes.
public struct KernelFeatures: Hashable, Sendable {
    /// The nfacct counter that counts INVALID packets dropped in KUBE-FORWARD.
    public static let ctStateInvalidDroppedCounter = "ct_state_invalid_dropped_pkts"
    /// The nfacct counter that counts accepted localhost NodePort packets.
    public static let localhostNodePortsAcceptedCounter = "localhost_nps_accepted_pkts"

    /// The nfacct counters that exist.
    public var nfacctCounters: Set<String>
    /// Whether iptables supports `MASQUERADE --random-fully` (iptables 1.6.2 or later).
    public var randomFully: Bool
    /// Whether `net.netfilter.nf_conntrack_tcp_be_liberal` is non-zero.
    public var tcpBeLiberal: Bool

    public init(nfacctCounters: Set<String> = [], randomFully: Bool = false, tcpBeLiberal: Bool = false) {
        self.nfacctCounters = nfacctCounters
        self.randomFully = randomFully
        self.tcpBeLiberal = tcpBeLiberal
    }

    /// Parses the renderer's `--kernel-features` list, e.g. `nfacct,no-random-fully,tcp-be-liberal`.
    public init(parsing list: String) throws {
        self.init()
        let all: Set<String> = [Self.ctStateInvalidDroppedCounter, Self.localhostNodePortsAcceptedCounter]
        for item in list.split(separator: ",").map({ String($0.trimmingSpaces()) }) where !item.isEmpty {
            switch item {
            case "nfacct": nfacctCounters = all
            case "no-nfacct": nfacctCounters = []
            case "random-fully": randomFully = true
            case "no-random-fully": randomFully = false
            case "tcp-be-liberal": tcpBeLiberal = true
            case "no-tcp-be-liberal": tcpBeLiberal = false
            case let counter where counter.hasPrefix("nfacct:"):
                nfacctCounters.insert(String(counter.dropFirst("nfacct:".count)))
            default:
                throw KernelFeaturesError(item: item)
            }
        }
    }
}

/// An unknown entry in a `--kernel-features` list.
public struct KernelFeaturesError: Error, Hashable, Sendable, CustomStringConvertible {
    public var item: String
    public var description: String {
        "unknown kernel feature \"\(item)\" (known: nfacct, no-nfacct, nfacct:<counter>, random-fully, no-random-fully, tcp-be-liberal, no-tcp-be-liberal)"
    }
}
