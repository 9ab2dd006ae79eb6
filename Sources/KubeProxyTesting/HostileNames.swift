import KubeProxyCore
import KubeProxyModel

/// A state whose names hold every byte value, as if validation had a hole: what the dataplanes'
/// text functions must make harmless.
public enum HostileNames {
    /// 256 Service ports, port `i` named with character U+00`i` in its namespace, name and port
    /// name (every ASCII byte, and the UTF-8 lead and continuation bytes of Latin-1), then quotes,
    /// a backslash, separators and multi-byte letters; or plain names when `plain`. Two
    /// endpoints each; affinity on every other one; a NodePort each.
    public static func state(plain: Bool) -> ProxyState {
        var state = ProxyState(family: .ipv4, nodeName: "n")
        for i in 0..<256 {
            let odd = String(Character(Unicode.Scalar(UInt8(i))))
            let part = plain ? "x\(i)" : "x\(i)\(odd)\"'\\;{} é€𝄞"
            let name = ServicePortName(namespace: "ns-" + part, name: "svc-" + part, port: "p-" + part, protocol: .tcp)
            state.services[name] = ServicePortInfo(name: name, clusterIP: .v4(0xC612_0A00 + UInt32(i)), port: 80, nodePort: 30_000 + i,
                                                   stickyMaxAgeSeconds: i % 2 == 0 ? 60 : nil)
            state.endpoints[name] = [Endpoint(ip: .v4(0xC612_0100 + UInt32(i)), port: 8080), Endpoint(ip: .v4(0xC612_0200 + UInt32(i)), port: 8080)]
        }
        return state
    }
}
