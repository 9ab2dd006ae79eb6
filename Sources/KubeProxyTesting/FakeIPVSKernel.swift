import KubeProxyKernel
import Netlink
import Synchronization

/// An IPVS kernel for tests, behind the netlink wire format: it decodes the requests as the kernel
/// would (refusing incomplete services and destinations with EINVAL, duplicates with EEXIST,
/// unknown services with ESRCH) and answers dumps as the kernel does (16-byte addresses, the
/// HASHED flag set). Tests can set a destination's connection counters.
public final class FakeIPVSKernel: NetlinkTransport {
    public static let familyID: UInt16 = 0x24
    struct Service { var attributes: [NetlinkAttribute]; var dests: [[UInt8]: Dest] = [:] }
    struct Dest { var attributes: [NetlinkAttribute]; var active: UInt32 = 0; var inactive: UInt32 = 0 }
    private struct State {
        var services: [[UInt8]: Service] = [:]   // key: protocol + address(16) + port
        var sequence: UInt32 = 0
        var requests: [UInt8] = []
    }
    private let state = Mutex(State())

    public init() {}

    public func nextSequence() -> UInt32 { state.withLock { $0.sequence &+= 1; return $0.sequence } }
    /// The IPVS commands received, in order.
    public var commands: [UInt8] { state.withLock { $0.requests } }
    public var serviceCount: Int { state.withLock { $0.services.count } }

    /// Sets the connection counters of every destination at `address` (network-order bytes).
    public func setConnections(destination address: [UInt8], port: UInt16, active: UInt32, inactive: UInt32) {
        state.withLock { s in
            for key in s.services.keys {
                let dkey = Self.padded(address) + [UInt8(port >> 8), UInt8(port & 0xFF)]
                if s.services[key]!.dests[dkey] != nil {
                    s.services[key]!.dests[dkey]!.active = active
                    s.services[key]!.dests[dkey]!.inactive = inactive
                }
            }
        }
    }

    public func request(_ message: NetlinkMessage) throws -> [NetlinkMessage] {
        let (command, attributes) = try message.generic()
        if message.type == GenericNetlinkController.family {
            guard attributes.first(GenericNetlinkController.familyNameAttribute)?.string == IPVS.familyName else { throw Self.errno(2) }
            return [.generic(family: GenericNetlinkController.family, command: 1, version: 1, flags: [], sequence: message.sequence,
                             attributes: [.u16(GenericNetlinkController.familyIDAttribute, Self.familyID)])]
        }
        guard message.type == Self.familyID, let cmd = IPVS.Command(rawValue: command) else { throw Self.errno(22) }
        return try state.withLock { s in
            s.requests.append(command)
            let serviceAttributes = try attributes.first(1)?.children() ?? []
            let key = serviceAttributes.isEmpty ? [] : try Self.serviceKey(serviceAttributes)
            switch cmd {
            case .newService, .setService:
                for required: UInt16 in [1, 2, 3, 4, 6, 7, 8, 9] where serviceAttributes.first(required) == nil { throw Self.errno(22) }
                if cmd == .newService, s.services[key] != nil { throw Self.errno(17) }
                if cmd == .setService, s.services[key] == nil { throw Self.errno(3) }
                s.services[key, default: Service(attributes: [])].attributes = serviceAttributes
                return []
            case .delService:
                guard s.services.removeValue(forKey: key) != nil else { throw Self.errno(3) }
                return []
            case .newDest, .setDest, .delDest:
                guard s.services[key] != nil else { throw Self.errno(3) }
                let destAttributes = try attributes.first(2)?.children() ?? []
                guard let addr = destAttributes.first(1)?.payload, let port = destAttributes.first(2)?.payload else { throw Self.errno(22) }
                let dkey = Self.padded(addr) + port
                if cmd != .delDest { for required: UInt16 in [3, 4, 5, 6] where destAttributes.first(required) == nil { throw Self.errno(22) } }
                switch cmd {
                case .newDest:
                    if s.services[key]!.dests[dkey] != nil { throw Self.errno(17) }
                    s.services[key]!.dests[dkey] = Dest(attributes: destAttributes)
                case .setDest:
                    guard s.services[key]!.dests[dkey] != nil else { throw Self.errno(2) }
                    s.services[key]!.dests[dkey]!.attributes = destAttributes
                default:
                    guard s.services[key]!.dests.removeValue(forKey: dkey) != nil else { throw Self.errno(2) }
                }
                return []
            case .getService:
                // Without the dump flag: the one service the request names (ESRCH when unknown).
                let keys = message.flags.contains(.dump) ? s.services.keys.sorted { $0.lexicographicallyPrecedes($1) } : [key]
                if !message.flags.contains(.dump), s.services[key] == nil { throw Self.errno(3) }
                return keys.map { k in
                    .generic(family: Self.familyID, command: IPVS.Command.newService.rawValue, version: 1, flags: .multi, sequence: message.sequence,
                             attributes: [.nested(1, Self.kernelForm(s.services[k]!.attributes))])
                }
            case .getDest:
                guard let service = s.services[key] else { throw Self.errno(3) }
                return service.dests.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { dk in
                    let d = service.dests[dk]!
                    var attrs = d.attributes.map { $0.type == 1 ? NetlinkAttribute.bytes(1, Self.padded($0.payload)) : $0 }
                    attrs += [.u32(7, d.active), .u32(8, d.inactive), .u32(9, 0)]
                    return .generic(family: Self.familyID, command: IPVS.Command.newDest.rawValue, version: 1, flags: .multi, sequence: message.sequence,
                                    attributes: [.nested(2, attrs)])
                }
            case .flush:
                s.services = [:]
                return []
            case .setConfig:
                return []
            default:
                throw Self.errno(95)
            }
        }
    }

    static func errno(_ value: Int32) -> NetlinkError { NetlinkError(code: .kernel, errno: value, message: "fake IPVS") }
    static func padded(_ address: [UInt8]) -> [UInt8] { address + [UInt8](repeating: 0, count: max(0, 16 - address.count)) }

    static func serviceKey(_ attributes: [NetlinkAttribute]) throws -> [UInt8] {
        guard let proto = attributes.first(2)?.payload, let addr = attributes.first(3)?.payload, let port = attributes.first(4)?.payload else {
            throw errno(22)
        }
        return proto + padded(addr) + port
    }

    /// As the kernel lists a service: 16-byte address, HASHED added to the flags.
    static func kernelForm(_ attributes: [NetlinkAttribute]) -> [NetlinkAttribute] {
        attributes.map { a in
            switch a.type {
            case 3: return .bytes(3, padded(a.payload))
            case 7:
                let flags = (NetlinkBytes.readHost(a.payload, at: 0) as UInt32? ?? 0) | 0x2
                return .bytes(7, NetlinkBytes.host(flags) + NetlinkBytes.host(UInt32.max))
            default: return a
            }
        }
    }
}
