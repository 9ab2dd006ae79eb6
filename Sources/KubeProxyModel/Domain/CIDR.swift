/// An address prefix such as `10.0.0.0/8`, stored with its host bits cleared.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address (host bits zero).
    public let address: IPAddress
    /// The prefix length.
    public let prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.address = CIDR.mask(address, prefixLength)
    }

    /// Parses `addr/len` sloppily, as `netutils.ParseCIDRSloppy` does; surrounding spaces are trimmed.
    public init?(sloppy text: String) {
        let trimmed = text.trimmingSpaces()
        guard let slash = trimmed.firstIndex(of: "/"),
              let address = IPAddress(sloppy: trimmed[..<slash]) else { return nil }
        let lengthText = trimmed[trimmed.index(after: slash)...]
        let maxLength = address.family == .ipv4 ? 32 : 128
        guard !lengthText.isEmpty, lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(lengthText), length <= maxLength else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// The family of the prefix.
    public var family: IPFamily { address.family }

    /// Whether `ip` lies inside this prefix.
    public func contains(_ ip: IPAddress) -> Bool {
        ip.family == family && CIDR.mask(ip, prefixLength) == address
    }

    public var description: String { "\(address)/\(prefixLength)" }

    static func mask(_ ip: IPAddress, _ length: Int) -> IPAddress {
        switch ip {
        case .v4(let a):
            let m: UInt32 = length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
            return .v4(a & m)
        case .v6(let hi, let lo):
            let mh: UInt64 = length == 0 ? 0 : (length >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - length))
            let ml: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << UInt64(128 - length))
            return .v6(hi & mh, lo & ml)
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    public func trimmingSpaces() -> Substring {
        let s = self[...]
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = s.firstIndex(where: { !isSpace($0) }) else { return Substring() }
        let end = s.lastIndex(where: { !isSpace($0) })!
        return Substring(s[start...end])
    }
}
