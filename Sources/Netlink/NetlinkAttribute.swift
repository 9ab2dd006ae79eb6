/// One netlink attribute (`struct nlattr`): a type and a payload, or nested attributes.
/// Lengths exclude padding; payloads are padded to 4 bytes on the wire.
public struct NetlinkAttribute: Hashable, Sendable {
    /// `NLA_F_NESTED`; IPVS neither sets it nor needs it (the kernel parses nests leniently).
    public static let nestedFlag: UInt16 = 0x8000
    /// `NLA_F_NET_BYTEORDER`.
    public static let netByteOrderFlag: UInt16 = 0x4000

    /// The type, without the two flag bits.
    public var type: UInt16
    public var payload: [UInt8]

    public init(type: UInt16, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    // MARK: Building

    public static func u8(_ type: UInt16, _ value: UInt8) -> Self { Self(type: type, payload: [value]) }
    /// Host byte order (netlink's default).
    public static func u16(_ type: UInt16, _ value: UInt16) -> Self { Self(type: type, payload: NetlinkBytes.host(value)) }
    public static func u32(_ type: UInt16, _ value: UInt32) -> Self { Self(type: type, payload: NetlinkBytes.host(value)) }
    public static func u64(_ type: UInt16, _ value: UInt64) -> Self { Self(type: type, payload: NetlinkBytes.host(value)) }
    /// Network byte order (ports, some masks).
    public static func be16(_ type: UInt16, _ value: UInt16) -> Self { Self(type: type, payload: [UInt8(value >> 8), UInt8(value & 0xFF)]) }
    public static func be32(_ type: UInt16, _ value: UInt32) -> Self {
        Self(type: type, payload: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
    /// A NUL-terminated string.
    public static func string(_ type: UInt16, _ value: String) -> Self { Self(type: type, payload: Array(value.utf8) + [0]) }
    public static func bytes(_ type: UInt16, _ value: [UInt8]) -> Self { Self(type: type, payload: value) }
    /// Nested attributes (without `NLA_F_NESTED` unless `flagged`).
    public static func nested(_ type: UInt16, _ children: [NetlinkAttribute], flagged: Bool = false) -> Self {
        var payload: [UInt8] = []
        for child in children { child.encode(into: &payload) }
        return Self(type: flagged ? type | nestedFlag : type, payload: payload)
    }

    // MARK: Reading

    public var u8: UInt8? { payload.count >= 1 ? payload[0] : nil }
    public var u16: UInt16? { NetlinkBytes.readHost(payload, at: 0) }
    public var u32: UInt32? { NetlinkBytes.readHost(payload, at: 0) }
    public var u64: UInt64? { NetlinkBytes.readHost(payload, at: 0) }
    public var be16: UInt16? { payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    /// The string up to the first NUL.
    public var string: String? { String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self) }
    /// The payload parsed as attributes.
    public func children() throws -> [NetlinkAttribute] { try Self.parse(payload[...]) }

    // MARK: Wire format

    /// Appends `nlattr` + payload + padding.
    public func encode(into out: inout [UInt8]) {
        out += NetlinkBytes.host(UInt16(4 + payload.count))
        out += NetlinkBytes.host(type)
        out += payload
        out += [UInt8](repeating: 0, count: NetlinkBytes.padding(payload.count))
    }

    /// Parses a run of attributes (flag bits are stripped from the types).
    public static func parse(_ bytes: ArraySlice<UInt8>) throws -> [NetlinkAttribute] {
        var result: [NetlinkAttribute] = []
        var offset = bytes.startIndex
        while offset + 4 <= bytes.endIndex {
            let length = Int(NetlinkBytes.readHost(bytes, at: offset) as UInt16? ?? 0)
            let type = (NetlinkBytes.readHost(bytes, at: offset + 2) as UInt16? ?? 0) & ~(nestedFlag | netByteOrderFlag)
            guard length >= 4, offset + length <= bytes.endIndex else {
                throw NetlinkError(code: .malformed, message: "attribute of length \(length) at offset \(offset - bytes.startIndex) overruns \(bytes.count) bytes")
            }
            result.append(NetlinkAttribute(type: type, payload: Array(bytes[(offset + 4)..<(offset + length)])))
            offset += length + NetlinkBytes.padding(length)
        }
        return result
    }
}

extension Array where Element == NetlinkAttribute {
    /// The first attribute of `type`.
    public func first(_ type: UInt16) -> NetlinkAttribute? { first { $0.type == type } }
}
