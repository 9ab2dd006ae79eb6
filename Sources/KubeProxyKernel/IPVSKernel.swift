import IPVSRules
import KubeProxyModel
import Netlink

/// IPVS over generic netlink: lists the kernel's virtual and real servers and applies
/// ``IPVSOperation``s, one request each, in order.
public final class IPVSKernel: Sendable {
    let transport: any NetlinkTransport
    /// The IPVS family id, resolved by name at start.
    public let family: UInt16

    /// - Throws: ``NetlinkError`` (errno ENOENT when the kernel has no IPVS).
    public init(transport: any NetlinkTransport) throws {
        self.transport = transport
        let replies: [NetlinkMessage]
        do {
            replies = try transport.request(GenericNetlinkController.getFamily(IPVS.familyName, sequence: transport.nextSequence()))
        } catch let error as NetlinkError where error.errno == 2 {
            throw NetlinkError(code: .kernel, errno: 2, message: "this kernel has no IPVS (generic netlink family \"IPVS\" not found; modprobe ip_vs)")
        }
        guard let reply = replies.first else { throw NetlinkError(code: .malformed, message: "no reply to the IPVS family lookup") }
        family = try GenericNetlinkController.familyID(in: reply)
    }

    /// Every virtual server of `ipFamily` with its real servers.
    public func virtualServers(_ ipFamily: IPFamily) throws -> [VirtualServer] {
        let replies = try transport.request(IPVS.request(.getService, family: family, sequence: transport.nextSequence(), dump: true))
        var result: [VirtualServer] = []
        for reply in replies {
            guard let nest = try reply.generic().attributes.first(1) else { continue }
            let service = try IPVSService(attributes: nest.children())
            guard service.isIPv6 == (ipFamily == .ipv6), let vs = try virtualServer(service) else { continue }
            result.append(vs)
        }
        return result.sorted { $0.key < $1.key }
    }

    /// The virtual servers with these keys (one lookup and one destination dump each); keys the
    /// kernel does not know are left out.
    public func virtualServers(_ keys: [VirtualServer.Key]) throws -> [VirtualServer] {
        var result: [VirtualServer] = []
        for key in keys {
            let query = Self.service(VirtualServer(key: key, scheduler: ""))
            let replies: [NetlinkMessage]
            do {
                replies = try transport.request(IPVS.request(.getService, family: family, sequence: transport.nextSequence(), service: query))
            } catch let error as NetlinkError where error.errno == 3 {   // ESRCH: no such virtual server
                continue
            }
            guard let nest = try replies.first?.generic().attributes.first(1), let vs = try virtualServer(IPVSService(attributes: nest.children())),
                  vs.key == key else { continue }
            result.append(vs)
        }
        return result
    }

    /// A listed service with its destinations (one dump).
    func virtualServer(_ service: IPVSService) throws -> VirtualServer? {
        guard let key = Self.key(service) else { return nil }
        let dests = try transport.request(IPVS.request(.getDest, family: family, sequence: transport.nextSequence(), service: service, dump: true))
        var realServers: [RealServer] = []
        for d in dests {
            guard let destNest = try d.generic().attributes.first(2) else { continue }
            let dest = try IPVSDestination(attributes: destNest.children(), ipv6: service.isIPv6)
            guard let address = IPAddress(bytes: dest.address) else { continue }
            realServers.append(RealServer(address: address, port: Int(dest.port), weight: Int(dest.weight),
                                          activeConnections: Int(dest.activeConnections), inactiveConnections: Int(dest.inactiveConnections)))
        }
        return VirtualServer(key: key, scheduler: service.scheduler, flags: service.flags.rawValue & ~VirtualServer.hashedFlag,
                             timeout: Int(service.timeout), realServers: realServers.sorted())
    }

    /// Applies `operations` in order, many per netlink send; the first refusal throws, naming the
    /// operation (the caller resyncs in full).
    public func apply(_ operations: [IPVSOperation]) throws {
        let messages = operations.map(message)
        do { try transport.requestBatch(messages) } catch let error as NetlinkError {
            let what = error.batchIndex.map { "IPVS \(operations[$0])" } ?? "IPVS"
            throw NetlinkError(code: error.code, errno: error.errno, message: what, batchIndex: error.batchIndex)
        }
    }

    /// The request of one operation.
    func message(_ op: IPVSOperation) -> NetlinkMessage {
        switch op {
        case .addService(let vs): return IPVS.request(.newService, family: family, sequence: transport.nextSequence(), service: Self.service(vs))
        case .updateService(let vs): return IPVS.request(.setService, family: family, sequence: transport.nextSequence(), service: Self.service(vs))
        case .deleteService(let key):
            return IPVS.request(.delService, family: family, sequence: transport.nextSequence(), service: Self.service(VirtualServer(key: key, scheduler: "")))
        case .addDestination(let key, let rs), .updateDestination(let key, let rs), .deleteDestination(let key, let rs):
            let command: IPVS.Command = switch op { case .addDestination: .newDest; case .updateDestination: .setDest; default: .delDest }
            return IPVS.request(command, family: family, sequence: transport.nextSequence(),
                                service: Self.service(VirtualServer(key: key, scheduler: "")), destination: Self.destination(rs))
        }
    }

    /// `ipvsadm --set tcp tcpfin udp` (seconds; 0 keeps a value).
    public func setTimeouts(tcp: Int, tcpFin: Int, udp: Int) throws {
        _ = try transport.request(IPVS.setTimeouts(family: family, sequence: transport.nextSequence(), tcp: UInt32(tcp), tcpFin: UInt32(tcpFin), udp: UInt32(udp)))
    }

    /// Removes every virtual server (`cleanup`).
    public func flush() throws {
        _ = try transport.request(IPVS.request(.flush, family: family, sequence: transport.nextSequence()))
    }

    static func service(_ vs: VirtualServer) -> IPVSService {
        IPVSService(address: vs.key.address.bytes, protocolNumber: UInt16(vs.key.protocol.number), port: UInt16(vs.key.port),
                    scheduler: vs.scheduler.isEmpty ? "rr" : vs.scheduler, flags: IPVS.ServiceFlags(rawValue: vs.flags), timeout: UInt32(vs.timeout))
    }

    static func destination(_ rs: RealServer) -> IPVSDestination {
        IPVSDestination(address: rs.address.bytes, port: UInt16(rs.port), weight: Int32(rs.weight))
    }

    static func key(_ service: IPVSService) -> VirtualServer.Key? {
        guard let address = IPAddress(bytes: service.address), let proto = L4Protocol.allCases.first(where: { UInt16($0.number) == service.protocolNumber }) else { return nil }
        return VirtualServer.Key(address: address, port: Int(service.port), protocol: proto)
    }
}
