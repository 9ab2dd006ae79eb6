/// A layer-4 protocol a Service port can use.
public enum L4Protocol: String, Hashable, Sendable, CaseIterable, Comparable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    /// The lowercase name iptables and chain hashes use (`tcp`, `udp`, `sctp`).
    public var lowercased: String { rawValue.lowercased() }

    /// The protocol number in IP headers.
    public var number: UInt8 {
        switch self {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        }
    }

    public static func < (lhs: L4Protocol, rhs: L4Protocol) -> Bool { lhs.rawValue < rhs.rawValue }
}
