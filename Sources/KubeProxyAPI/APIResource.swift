import Foundation
import KubeProxyModel

/// A Kubernetes object kube-proxy follows: it has metadata, which gives it a key.
public protocol APIObject: Decodable, Sendable {
    var metadata: ObjectMeta { get }
}

extension Service: APIObject {}
extension EndpointSlice: APIObject {}
extension Node: APIObject {}
extension ServiceCIDR: APIObject {}

/// A collection to list and watch, with the selectors upstream kube-proxy uses.
public struct APIResource: Sendable, Hashable {
    /// `/api/v1/services`, `/apis/discovery.k8s.io/v1/endpointslices`, ...
    public var path: String
    public var labelSelector: String?
    public var fieldSelector: String?

    public init(path: String, labelSelector: String? = nil, fieldSelector: String? = nil) {
        self.path = path
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
    }

    /// Upstream's selector for Services and EndpointSlices: not owned by another proxy, not headless.
    public static let proxiedSelector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"
    public static let services = APIResource(path: "/api/v1/services", labelSelector: proxiedSelector)
    public static let endpointSlices = APIResource(path: "/apis/discovery.k8s.io/v1/endpointslices", labelSelector: proxiedSelector)
    /// The ranges ClusterIPs come from (nftables mode's cluster-ips check); optional: older API
    /// servers do not serve it.
    public static let serviceCIDRs = APIResource(path: "/apis/networking.k8s.io/v1/servicecidrs")
    /// This node only.
    public static func node(_ name: String) -> APIResource { APIResource(path: "/api/v1/nodes", fieldSelector: "metadata.name=\(name)") }

    /// The path with `query` and the selectors, percent-encoded.
    public func url(_ query: [(String, String)]) -> String {
        var items = query
        if let labelSelector { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector { items.append(("fieldSelector", fieldSelector)) }
        guard !items.isEmpty else { return path }
        return path + "?" + items.map { "\($0.0)=\(Self.escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
