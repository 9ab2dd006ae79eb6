/// An IPv4 or IPv6 address, printed in canonical form (RFC 5952 for IPv6).
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    /// The address family.
    public var family: IPFamily {
        switch self {
        case .v4: .ipv4
        case .v6: .ipv6
        }
    }

    /// Whether the address is in 127.0.0.0/8 or is ::1.
    public var isLoopback: Bool {
        switch self {
        case .v4(let a): a >> 24 == 127
        case .v6(let hi, let lo): hi == 0 && lo == 1
        }
    }

    /// Whether the address is IPv6 link-local (fe80::/10).
    public var isIPv6LinkLocal: Bool {
        if case .v6(let hi, _) = self { return hi >> 54 == 0x3fa }
        return false
    }

    /// Whether the address is 0.0.0.0 or ::.
    public var isUnspecified: Bool {
        switch self {
        case .v4(let a): a == 0
        case .v6(let hi, let lo): hi == 0 && lo == 0
        }
    }

    /// The sixteen (IPv6) or four (IPv4) bytes of the address, network order.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let a):
            return [UInt8(a >> 24), UInt8((a >> 16) & 0xff), UInt8((a >> 8) & 0xff), UInt8(a & 0xff)]
        case .v6(let hi, let lo):
            return (0..<8).map { UInt8((hi >> (56 - 8 * UInt64($0))) & 0xff) }
                + (0..<8).map { UInt8((lo >> (56 - 8 * UInt64($0))) & 0xff) }
        }
    }

    /// The address of four (IPv4) or sixteen (IPv6) network-order bytes; nil for other lengths.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16: self = .v6(bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\((a >> 16) & 0xff).\((a >> 8) & 0xff).\(a & 0xff)"
        case .v6(let hi, let lo):
            return Self.formatIPv6(hi: hi, lo: lo)
        }
    }

    /// `ip:port` for IPv4 and `[ip]:port` for IPv6, like Go's `net.JoinHostPort`.
    public func joinHostPort(_ port: Int) -> String {
        switch self {
        case .v4: "\(description):\(port)"
        case .v6: "[\(description)]:\(port)"
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        case (.v6(let ah, let al), .v6(let bh, let bl)): (ah, al) < (bh, bl)
        }
    }

    private static func formatIPv6(hi: UInt64, lo: UInt64) -> String {
        let groups: [UInt16] = (0..<4).map { UInt16((hi >> (48 - 16 * UInt64($0))) & 0xffff) }
            + (0..<4).map { UInt16((lo >> (48 - 16 * UInt64($0))) & 0xffff) }
        // IPv4-mapped addresses print with a dotted tail, as Go does.
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff {
            let v4 = IPAddress.v4(UInt32(groups[6]) << 16 | UInt32(groups[7]))
            return "::ffff:\(v4)"
        }
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen { bestStart = i; bestLen = j - i }
                i = j
            } else {
                i += 1
            }
        }
        if bestLen < 2 { bestStart = -1 }
        var out = ""
        var k = 0
        while k < 8 {
            if k == bestStart {
                out += "::"
                k += bestLen
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[k], radix: 16)
            k += 1
        }
        return out
    }
}
