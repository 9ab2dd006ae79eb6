/// A networking.k8s.io `ServiceCIDR`: the ranges ClusterIPs are allocated from.
public struct ServiceCIDR: Codable, Hashable, Sendable {
    public var metadata: ObjectMeta
    public var spec: Spec?

    /// `spec` of a ServiceCIDR.
    public struct Spec: Codable, Hashable, Sendable {
        public var cidrs: [String]?
    }
}
