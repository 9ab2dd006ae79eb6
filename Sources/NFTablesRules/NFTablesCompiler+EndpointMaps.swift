import KubeProxyCore
import KubeProxyModel

/// The `endpoint-maps` layout (``NFTablesLayout/endpointMaps``): a Service port's cluster and
/// local chains choose their endpoint with `numgen random mod 65536` looked up in a named interval
/// map of slot ranges to `address . port`, and one set of `endpoint . endpoint` pairs marks hairpin
/// traffic for masquerading in postrouting. An endpoint change rewrites map elements only: no
/// chain, rule, jump or goto changes, so the kernel does not re-validate the table.
extension NFTablesCompiler {
    /// The set of `address . address` pairs of every endpoint: a connection DNATed back to its source.
    static let endpointHairpin = "endpoint-hairpin"
    /// How many `numgen` slots the endpoints of a map share (each endpoint's share is within one slot of equal).
    public static let endpointSlots = 65536

    /// Whether `svc`'s endpoints are chosen by maps (affinity Services keep upstream's endpoint chains).
    func usesEndpointMaps(_ svc: ServicePortInfo) -> Bool {
        options.nftablesLayout == .endpointMaps && svc.stickyMaxAgeSeconds == nil
    }

    /// The declaration of an endpoint map of `family` (`ip`, `ip6`) for `protocol` (`tcp`, `udp`,
    /// `sctp`: nft refuses `th dport` data after `meta l4proto`, and another protocol's port).
    public static func endpointMapType(family: String, protocol: String) -> String {
        "typeof numgen random mod \(endpointSlots) : \(family) daddr . \(`protocol`) dport ; flags interval"
    }

    /// The hairpin set, and the postrouting rule that masquerades what it matches.
    var hairpinSet: NFTObject {
        .set(name: Self.endpointHairpin, type: "\(addrType) . \(addrType)", flags: [], timeoutSeconds: nil, comment: "endpoint traffic DNATed back to its source")
    }
    var hairpinRule: String { "ct status dnat \(ipX) saddr . \(ipX) daddr @\(Self.endpointHairpin) jump mark-for-masquerade" }

    /// The rule that picks one of the endpoints in `map`.
    func endpointMapRule(_ svc: ServicePortInfo, map: String) -> String {
        "meta l4proto \(svc.protocol.lowercased) dnat \(ipX) to numgen random mod \(Self.endpointSlots) map @\(map)"
    }

    /// The elements of an endpoint map: `first-last : address . port`, slots split as evenly as they go.
    public static func endpointMapElements(_ endpoints: [Endpoint]) -> [(key: String, value: String)] {
        let n = min(endpoints.count, endpointSlots)
        return (0..<n).map { i in
            let first = i * endpointSlots / n, last = (i + 1) * endpointSlots / n - 1
            return ("\(first)-\(last)", "\(endpoints[i].ip) . \(endpoints[i].port)")
        }
    }

    /// Writes `map` (created and flushed) and its elements into `ops`.
    func writeEndpointMap(_ map: String, _ svc: ServicePortInfo, _ endpoints: [Endpoint], into ops: inout NFTTransaction) {
        let object = NFTObject.map(name: map, type: Self.endpointMapType(family: ipX, protocol: svc.protocol.lowercased), comment: nil)
        ops.add(object)
        ops.flush(object)
        for (key, value) in Self.endpointMapElements(endpoints) {
            ops.add(.element(container: map, key: key, value: value, comment: nil))
        }
    }
}
