import KubeProxyCore

/// The one door from Kubernetes names to nftables text, nft input and netlink alike: a Service
/// port's name reaches a chain name or a comment only through here.
public enum NFTText {
    /// A name part for a chain name: upstream's text for every name the API server accepts;
    /// any other byte escaped (``TextEscaping``), so the name stays one nft identifier.
    public static func namePart(_ part: String) -> String { TextEscaping.namePart(part) }

    /// `namespace/name:port` for a comment, its parts through ``namePart(_:)``.
    public static func comment(_ name: ServicePortName) -> String { TextEscaping.describe(name) }
}
