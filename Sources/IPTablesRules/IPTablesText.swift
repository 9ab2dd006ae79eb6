import KubeProxyCore

/// The one door from Kubernetes names to `iptables-restore` text: a Service port's name is
/// written into comments only through here (chain names are hashes and need nothing).
public enum IPTablesText {
    /// `namespace/name:port` for a comment: upstream's text for every name the API server
    /// accepts; any other byte escaped (``TextEscaping``), so it can end no quote, word or line.
    public static func comment(_ name: ServicePortName) -> String { TextEscaping.describe(name) }
}
