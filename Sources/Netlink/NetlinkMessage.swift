/// One netlink message (`struct nlmsghdr` + payload), with generic netlink's header when it has one.
public struct NetlinkMessage: Hashable, Sendable {
    /// `NLM_F_*` request flags.
    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let request = Flags(rawValue: 0x1)
        public static let multi = Flags(rawValue: 0x2)
        public static let ack = Flags(rawValue: 0x4)
        /// `NLM_F_ROOT | NLM_F_MATCH`.
        public static let dump = Flags(rawValue: 0x300)
    }

    /// `NLMSG_ERROR` (an ack when the error is 0) and `NLMSG_DONE` (end of a dump).
    public static let errorType: UInt16 = 2
    public static let doneType: UInt16 = 3

    public var type: UInt16
    public var flags: Flags
    public var sequence: UInt32
    public var portID: UInt32
    public var payload: [UInt8]

    public init(type: UInt16, flags: Flags, sequence: UInt32, portID: UInt32 = 0, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// A generic netlink request: `genlmsghdr {cmd, version}` then the attributes.
    public static func generic(family: UInt16, command: UInt8, version: UInt8, flags: Flags, sequence: UInt32,
                               attributes: [NetlinkAttribute]) -> NetlinkMessage {
        var payload: [UInt8] = [command, version, 0, 0]
        for attribute in attributes { attribute.encode(into: &payload) }
        return NetlinkMessage(type: family, flags: flags, sequence: sequence, payload: payload)
    }

    /// The wire bytes (header length includes the payload, not the final padding).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends the wire bytes to `out`.
    public func encode(into out: inout [UInt8]) {
        out += NetlinkBytes.host(UInt32(16 + payload.count))
        out += NetlinkBytes.host(type)
        out += NetlinkBytes.host(flags.rawValue)
        out += NetlinkBytes.host(sequence)
        out += NetlinkBytes.host(portID)
        out += payload
        out += [UInt8](repeating: 0, count: NetlinkBytes.padding(payload.count))
    }

    /// Splits a received buffer into messages.
    public static func parse(_ bytes: [UInt8]) throws -> [NetlinkMessage] {
        var result: [NetlinkMessage] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(NetlinkBytes.readHost(bytes, at: offset) as UInt32? ?? 0)
            guard length >= 16, offset + length <= bytes.count else {
                throw NetlinkError(code: .malformed, message: "message of length \(length) at offset \(offset) overruns \(bytes.count) bytes")
            }
            result.append(NetlinkMessage(type: NetlinkBytes.readHost(bytes, at: offset + 4)!,
                                         flags: Flags(rawValue: NetlinkBytes.readHost(bytes, at: offset + 6)!),
                                         sequence: NetlinkBytes.readHost(bytes, at: offset + 8)!,
                                         portID: NetlinkBytes.readHost(bytes, at: offset + 12)!,
                                         payload: Array(bytes[(offset + 16)..<(offset + length)])))
            offset += length + NetlinkBytes.padding(length)
        }
        return result
    }

    /// For `NLMSG_ERROR`: the errno (0 = ack), positive.
    public var errorNumber: Int32? {
        guard type == Self.errorType, let raw: UInt32 = NetlinkBytes.readHost(payload, at: 0) else { return nil }
        return -Int32(bitPattern: raw)
    }

    /// For a generic netlink message: its command and attributes.
    public func generic() throws -> (command: UInt8, attributes: [NetlinkAttribute]) {
        guard payload.count >= 4 else { throw NetlinkError(code: .malformed, message: "generic netlink message shorter than its header") }
        return (payload[0], try NetlinkAttribute.parse(payload[4...]))
    }
}

/// Generic netlink's controller (`nlctrl`): resolving a family name to its id.
public enum GenericNetlinkController {
    public static let family: UInt16 = 0x10
    public static let getFamilyCommand: UInt8 = 3
    public static let familyIDAttribute: UInt16 = 1
    public static let familyNameAttribute: UInt16 = 2

    /// `CTRL_CMD_GETFAMILY` for `name`.
    public static func getFamily(_ name: String, sequence: UInt32) -> NetlinkMessage {
        .generic(family: family, command: getFamilyCommand, version: 1, flags: [.request, .ack], sequence: sequence,
                 attributes: [.string(familyNameAttribute, name)])
    }

    /// The family id in a reply to ``getFamily(_:sequence:)``.
    public static func familyID(in reply: NetlinkMessage) throws -> UInt16 {
        guard let id = try reply.generic().attributes.first(familyIDAttribute)?.u16 else {
            throw NetlinkError(code: .malformed, message: "no CTRL_ATTR_FAMILY_ID in the reply")
        }
        return id
    }
}
