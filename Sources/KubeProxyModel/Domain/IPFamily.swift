/// An IP family, spelled as Kubernetes spells it (`IPv4`, `IPv6`).
public enum IPFamily: String, Hashable, Sendable, Codable, CaseIterable {
    case ipv4 = "IPv4"
    case ipv6 = "IPv6"
}
