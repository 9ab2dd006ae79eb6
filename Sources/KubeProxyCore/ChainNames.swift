import Crypto

/// kube-proxy's hashed chain names: `KUBE-SVC-`, `KUBE-SVL-`, `KUBE-EXT-`, `KUBE-FW-` and `KUBE-SEP-`
/// followed by the first 16 base32 characters of a SHA-256.
public enum ChainNames {
    /// The 16-character suffix shared by a Service port's SVC, SVL, EXT and FW chains.
    public static func portProtoHash(_ servicePortName: String, _ protocolLowercased: String) -> String {
        hash(servicePortName + protocolLowercased)
    }

    /// `KUBE-SVC-<hash>`: the chain that load-balances over all usable endpoints.
    public static func serviceChain(_ name: ServicePortName) -> String {
        "KUBE-SVC-" + portProtoHash(name.description, name.protocol.lowercased)
    }

    /// `KUBE-SVL-<hash>`: the chain that load-balances over local endpoints only.
    public static func localChain(_ name: ServicePortName) -> String {
        "KUBE-SVL-" + portProtoHash(name.description, name.protocol.lowercased)
    }

    /// `KUBE-EXT-<hash>`: where traffic to external destinations goes first.
    public static func externalChain(_ name: ServicePortName) -> String {
        "KUBE-EXT-" + portProtoHash(name.description, name.protocol.lowercased)
    }

    /// `KUBE-FW-<hash>`: the loadBalancerSourceRanges filter.
    public static func firewallChain(_ name: ServicePortName) -> String {
        "KUBE-FW-" + portProtoHash(name.description, name.protocol.lowercased)
    }

    /// `KUBE-SEP-<hash>`: the DNAT chain of one endpoint of one Service port.
    public static func endpointChain(_ name: ServicePortName, endpoint: String) -> String {
        "KUBE-SEP-" + hash(name.description + name.protocol.lowercased + endpoint)
    }

    /// Whether `chain` is one of the per-service chains kube-proxy creates and deletes.
    public static func isServiceChain(_ chain: String) -> Bool {
        ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"].contains { chain.hasPrefix($0) }
    }

    static func hash(_ input: String) -> String { hash(input, length: 16) }

    /// The first `length` base32 characters (RFC 4648 alphabet A–Z, 2–7) of the SHA-256 of
    /// `input` (the form every mode's names use). Called for every endpoint of every sync: it
    /// encodes only the characters it returns.
    public static func hash(_ input: String, length: Int) -> String {
        let digest = SHA256.hash(data: Array(input.utf8))
        var out = [UInt8]()
        out.reserveCapacity(length)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in digest {
            buffer = (buffer << 8 | UInt32(byte)) & 0xFFFF
            bits += 8
            while bits >= 5 && out.count < length {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
            if out.count == length { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
}
