import KubeProxyModel

/// Identifies one port of one Service: `namespace/name:port` plus its protocol.
public struct ServicePortName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    public var port: String
    public var `protocol`: L4Protocol

    public init(namespace: String, name: String, port: String, protocol: L4Protocol) {
        self.namespace = namespace
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }

    /// `namespace/name`.
    public var namespacedName: String { "\(namespace)/\(name)" }

    /// `namespace/name:port`, or `namespace/name` for an unnamed port (upstream's `String()`).
    public var description: String { port.isEmpty ? namespacedName : "\(namespacedName):\(port)" }

    public static func < (lhs: ServicePortName, rhs: ServicePortName) -> Bool {
        (lhs.namespace, lhs.name, lhs.port, lhs.protocol) < (rhs.namespace, rhs.name, rhs.port, rhs.protocol)
    }
}
