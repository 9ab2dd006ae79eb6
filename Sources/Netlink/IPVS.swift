/// The IPVS generic netlink family (`include/uapi/linux/ip_vs.h`): commands and attributes.
public enum IPVS {
    public static let familyName = "IPVS"
    public static let version: UInt8 = 1

    public enum Command: UInt8, Sendable {
        case newService = 1, setService, delService, getService
        case newDest, setDest, delDest, getDest
        case setConfig = 12, getConfig, setInfo, getInfo
        case zero = 16, flush
    }

    enum CommandAttribute { static let service: UInt16 = 1, dest: UInt16 = 2, timeoutTCP: UInt16 = 4, timeoutTCPFin: UInt16 = 5, timeoutUDP: UInt16 = 6 }
    enum ServiceAttribute {
        static let af: UInt16 = 1, protocolNumber: UInt16 = 2, addr: UInt16 = 3, port: UInt16 = 4, fwmark: UInt16 = 5
        static let schedName: UInt16 = 6, flags: UInt16 = 7, timeout: UInt16 = 8, netmask: UInt16 = 9
    }
    enum DestAttribute {
        static let addr: UInt16 = 1, port: UInt16 = 2, fwdMethod: UInt16 = 3, weight: UInt16 = 4, upperThreshold: UInt16 = 5
        static let lowerThreshold: UInt16 = 6, activeConns: UInt16 = 7, inactiveConns: UInt16 = 8, persistConns: UInt16 = 9
        static let addrFamily: UInt16 = 11
    }
    enum InfoAttribute { static let version: UInt16 = 1, connectionTableSize: UInt16 = 2 }

    /// `IP_VS_SVC_F_*`.
    public struct ServiceFlags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let persistent = ServiceFlags(rawValue: 0x1)
        public static let hashed = ServiceFlags(rawValue: 0x2)
        public static let onePacket = ServiceFlags(rawValue: 0x4)
        /// `sched1`: sh's fallback, mh's fallback.
        public static let sched1 = ServiceFlags(rawValue: 0x8)
        /// `sched2`: sh's and mh's port.
        public static let sched2 = ServiceFlags(rawValue: 0x10)
        public static let sched3 = ServiceFlags(rawValue: 0x20)
    }

    /// The address family numbers netlink carries.
    public static let afInet: UInt16 = 2, afInet6: UInt16 = 10
}

/// An IPVS virtual server.
public struct IPVSService: Hashable, Sendable {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public var address: [UInt8]
    /// 6 TCP, 17 UDP, 132 SCTP.
    public var protocolNumber: UInt16
    public var port: UInt16
    public var scheduler: String
    public var flags: IPVS.ServiceFlags
    /// Persistence timeout in seconds (ClientIP affinity), 0 for none.
    public var timeout: UInt32

    public init(address: [UInt8], protocolNumber: UInt16, port: UInt16, scheduler: String = "rr",
                flags: IPVS.ServiceFlags = [], timeout: UInt32 = 0) {
        self.address = address
        self.protocolNumber = protocolNumber
        self.port = port
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
    }

    public var isIPv6: Bool { address.count == 16 }

    /// The service nest, in moby/ipvs's order: AF, PROTOCOL, ADDR, PORT, SCHED_NAME, FLAGS (mask
    /// all ones), TIMEOUT, NETMASK (all ones for IPv4, the prefix length 128 for IPv6).
    public var attributes: [NetlinkAttribute] {
        typealias A = IPVS.ServiceAttribute
        return [
            .u16(A.af, isIPv6 ? IPVS.afInet6 : IPVS.afInet),
            .u16(A.protocolNumber, protocolNumber),
            .bytes(A.addr, address),
            .be16(A.port, port),
            .string(A.schedName, scheduler),
            .bytes(A.flags, NetlinkBytes.host(flags.rawValue) + NetlinkBytes.host(UInt32.max)),
            .u32(A.timeout, timeout),
            isIPv6 ? .u32(A.netmask, 128) : .be32(A.netmask, 0xFFFF_FFFF),
        ]
    }

    /// A service from a kernel reply (addresses arrive as 16 bytes, IPv4 in the first 4).
    public init(attributes: [NetlinkAttribute]) throws {
        typealias A = IPVS.ServiceAttribute
        guard let af = attributes.first(A.af)?.u16, let proto = attributes.first(A.protocolNumber)?.u16,
              let addr = attributes.first(A.addr)?.payload, let port = attributes.first(A.port)?.be16 else {
            throw NetlinkError(code: .malformed, message: "IPVS service without AF, PROTOCOL, ADDR or PORT (fwmark services are not used)")
        }
        let flags = attributes.first(A.flags)?.u32 ?? 0
        self.init(address: Array(addr.prefix(af == IPVS.afInet6 ? 16 : 4)), protocolNumber: proto, port: port,
                  scheduler: attributes.first(A.schedName)?.string ?? "", flags: IPVS.ServiceFlags(rawValue: flags),
                  timeout: attributes.first(A.timeout)?.u32 ?? 0)
    }
}

/// An IPVS real server of a virtual server.
public struct IPVSDestination: Hashable, Sendable {
    public var address: [UInt8]
    public var port: UInt16
    public var weight: Int32
    /// From replies only.
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0

    public init(address: [UInt8], port: UInt16, weight: Int32 = 1) {
        self.address = address
        self.port = port
        self.weight = weight
    }

    /// The dest nest, in moby/ipvs's order: ADDR, PORT, FWD_METHOD (masquerade), WEIGHT, thresholds 0.
    public var attributes: [NetlinkAttribute] {
        typealias A = IPVS.DestAttribute
        return [.bytes(A.addr, address), .be16(A.port, port), .u32(A.fwdMethod, 0), .u32(A.weight, UInt32(bitPattern: weight)),
                .u32(A.upperThreshold, 0), .u32(A.lowerThreshold, 0)]
    }

    public init(attributes: [NetlinkAttribute], ipv6: Bool) throws {
        typealias A = IPVS.DestAttribute
        guard let addr = attributes.first(A.addr)?.payload, let port = attributes.first(A.port)?.be16 else {
            throw NetlinkError(code: .malformed, message: "IPVS destination without ADDR or PORT")
        }
        self.init(address: Array(addr.prefix(ipv6 ? 16 : 4)), port: port, weight: Int32(bitPattern: attributes.first(A.weight)?.u32 ?? 0))
        activeConnections = attributes.first(A.activeConns)?.u32 ?? 0
        inactiveConnections = attributes.first(A.inactiveConns)?.u32 ?? 0
    }
}

extension IPVS {
    /// A request of the IPVS family (`family` is resolved at run time).
    public static func request(_ command: Command, family: UInt16, sequence: UInt32, service: IPVSService? = nil,
                               destination: IPVSDestination? = nil, dump: Bool = false) -> NetlinkMessage {
        var attributes: [NetlinkAttribute] = []
        if let service { attributes.append(.nested(CommandAttribute.service, service.attributes)) }
        if let destination { attributes.append(.nested(CommandAttribute.dest, destination.attributes)) }
        return .generic(family: family, command: command.rawValue, version: version, flags: dump ? [.request, .ack, .dump] : [.request, .ack],
                        sequence: sequence, attributes: attributes)
    }

    /// `IPVS_CMD_SET_CONFIG` with the TCP, TCP FIN and UDP timeouts in seconds (0 leaves one unchanged).
    public static func setTimeouts(family: UInt16, sequence: UInt32, tcp: UInt32, tcpFin: UInt32, udp: UInt32) -> NetlinkMessage {
        .generic(family: family, command: Command.setConfig.rawValue, version: version, flags: [.request, .ack], sequence: sequence,
                 attributes: [.u32(CommandAttribute.timeoutTCP, tcp), .u32(CommandAttribute.timeoutTCPFin, tcpFin), .u32(CommandAttribute.timeoutUDP, udp)])
    }
}
