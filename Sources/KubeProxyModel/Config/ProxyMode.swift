/// The proxy mode (`mode` in `KubeProxyConfiguration`, `--proxy-mode`): which dataplane programs
/// the kernel. The one value every command switches on.
public enum ProxyMode: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case iptables, ipvs, nftables

    public var description: String { rawValue }
}
