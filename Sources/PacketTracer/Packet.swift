import KubeProxyModel

/// The first packet of a connection, as the tracer sees it.
public struct Packet: Hashable, Sendable, Codable {
    public var source: IPAddress
    public var destination: IPAddress
    public var destinationPort: Int
    public var `protocol`: L4Protocol

    public init(source: IPAddress, destination: IPAddress, destinationPort: Int, protocol: L4Protocol = .tcp) {
        self.source = source
        self.destination = destination
        self.destinationPort = destinationPort
        self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey { case source, destination, destinationPort, `protocol` }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source.description, forKey: .source)
        try c.encode(destination.description, forKey: .destination)
        try c.encode(destinationPort, forKey: .destinationPort)
        try c.encode(`protocol`.lowercased, forKey: .protocol)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let s = IPAddress(sloppy: try c.decode(String.self, forKey: .source)),
              let d = IPAddress(sloppy: try c.decode(String.self, forKey: .destination)),
              let p = L4Protocol(rawValue: try c.decode(String.self, forKey: .protocol).uppercased()) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad packet"))
        }
        self.init(source: s, destination: d, destinationPort: try c.decode(Int.self, forKey: .destinationPort), protocol: p)
    }
}
