/// One change to the kernel's IPVS table, in the order a sync applies them.
public enum IPVSOperation: Hashable, Sendable, CustomStringConvertible {
    case addService(VirtualServer)
    case updateService(VirtualServer)
    case deleteService(VirtualServer.Key)
    case addDestination(VirtualServer.Key, RealServer)
    /// Sets the weight (1 to bring a destination back; 0 to drain it).
    case updateDestination(VirtualServer.Key, RealServer)
    case deleteDestination(VirtualServer.Key, RealServer)

    public var description: String {
        switch self {
        case .addService(let vs): "add service \(vs.key) \(vs.scheduler)\(vs.timeout > 0 ? " persistent \(vs.timeout)" : "")"
        case .updateService(let vs): "update service \(vs.key) \(vs.scheduler)\(vs.timeout > 0 ? " persistent \(vs.timeout)" : "")"
        case .deleteService(let key): "delete service \(key)"
        case .addDestination(let key, let rs): "add destination \(key) -> \(rs.endpoint) weight \(rs.weight)"
        case .updateDestination(let key, let rs): "set destination \(key) -> \(rs.endpoint) weight \(rs.weight)"
        case .deleteDestination(let key, let rs): "delete destination \(key) -> \(rs.endpoint)"
        }
    }
}
