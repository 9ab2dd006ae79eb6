import Yams

extension KubeProxyConfiguration {
    /// The apiVersion this proxy reads.
    public static let apiVersionV1alpha1 = "kubeproxy.config.k8s.io/v1alpha1"

    /// Decodes a configuration file strictly: the document must be `kind: KubeProxyConfiguration` of
    /// ``apiVersionV1alpha1``, and every key must be one of upstream's fields (or `iptables.dispatch` and
    /// `nftables.layout`, this proxy's own, and the top-level `syncPeriod`/`minSyncPeriod` of v1alpha2); anything else is
    /// refused naming the field. (Upstream decodes strictly
    /// and then only warns; a misspelt field silently falling back to a default is how nodes break.)
    /// - Throws: ``ManifestError`` with code `invalidConfiguration`, naming the field.
    public static func strictlyDecoding(_ text: String, source: String) throws -> KubeProxyConfiguration {
        func refuse(_ detail: String) -> ManifestError { ManifestError(code: .invalidConfiguration, source: source, detail: detail) }
        let root: Yams.Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw refuse("the file is empty") }
            root = node
        } catch let error as ManifestError { throw error } catch {
            throw ManifestError(code: .syntax, source: source, detail: "\(error)")
        }
        guard case .mapping(let mapping) = root else { throw refuse("KubeProxyConfiguration: must be an object") }
        let apiVersion = mapping["apiVersion"]?.string, kind = mapping["kind"]?.string
        guard apiVersion == apiVersionV1alpha1 else {
            throw refuse("apiVersion: must be \"\(apiVersionV1alpha1)\", not \(apiVersion.map { "\"\($0)\"" } ?? "missing")")
        }
        guard kind == "KubeProxyConfiguration" else {
            throw refuse("kind: must be \"KubeProxyConfiguration\", not \(kind.map { "\"\($0)\"" } ?? "missing")")
        }
        if let problem = ConfigSchema.configuration.firstProblem(in: root, path: "KubeProxyConfiguration") { throw refuse(problem) }
        do {
            return try YAMLDecoder().decode(KubeProxyConfiguration.self, from: root)
        } catch let error as DecodingError {
            throw refuse("KubeProxyConfiguration " + ManifestDocument.describe(error))
        }
    }
}

/// The shape of upstream's v1alpha1 `KubeProxyConfiguration`: which keys exist where.
indirect enum ConfigSchema: Sendable {
    /// A value that is not an object (string, number, bool, null).
    case scalar
    /// An object with exactly these keys.
    case object([String: ConfigSchema])
    /// An object with any keys (`featureGates`).
    case map
    /// A list of items of one shape.
    case list(ConfigSchema)

    /// The first unknown field (or an object where a value belongs), as `path.field: reason`.
    func firstProblem(in node: Yams.Node, path: String) -> String? {
        switch (self, node) {
        case (.object(let fields), .mapping(let mapping)):
            for (key, value) in mapping {
                let name = key.string ?? "\(key)"
                guard let schema = fields[name] else { return "\(path).\(name): unknown field" }
                if let problem = schema.firstProblem(in: value, path: "\(path).\(name)") { return problem }
            }
            return nil
        case (.list(let item), .sequence(let sequence)):
            for (index, value) in sequence.enumerated() {
                if let problem = item.firstProblem(in: value, path: "\(path)[\(index)]") { return problem }
            }
            return nil
        case (.map, .mapping), (.scalar, .scalar): return nil
        case (_, .scalar(let scalar)) where scalar.tag == .init(.null): return nil
        case (.scalar, _): return "\(path): must be a single value, not an object or list"
        case (.object, _), (.map, _): return "\(path): must be an object"
        case (.list, _): return "\(path): must be a list"
        }
    }

    static func fields(_ names: String...) -> [String: ConfigSchema] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, .scalar) })
    }

    /// Upstream's fields (1.31–1.34), plus `iptables.dispatch` and `nftables.layout` (this proxy's
    /// own) and the top-level `syncPeriod` and `minSyncPeriod` (upstream's v1alpha2 names).
    static let configuration: ConfigSchema = {
        var top = fields("apiVersion", "kind", "hostnameOverride", "bindAddress", "healthzBindAddress", "metricsBindAddress",
                         "bindAddressHardFail", "enableProfiling", "showHiddenMetricsForVersion", "mode", "detectLocalMode",
                         "clusterCIDR", "oomScoreAdj", "configSyncPeriod", "portRange", "windowsRunAsService",
                         // v1alpha2's mode-neutral periods, which this proxy reads from v1alpha1 too.
                         "syncPeriod", "minSyncPeriod")
        top["nodePortAddresses"] = .list(.scalar)
        top["featureGates"] = .map
        top["clientConnection"] = .object(fields("kubeconfig", "acceptContentTypes", "contentType", "qps", "burst"))
        let output = ConfigSchema.object(fields("splitStream", "infoBufferSize"))
        var logging = fields("format", "flushFrequency", "verbosity")
        logging["vmodule"] = .list(.object(fields("filePattern", "verbosity")))
        logging["options"] = .object(["text": output, "json": output])
        top["logging"] = .object(logging)
        top["iptables"] = .object(fields("masqueradeBit", "masqueradeAll", "localhostNodePorts", "syncPeriod", "minSyncPeriod", "dispatch"))
        var ipvs = fields("syncPeriod", "minSyncPeriod", "scheduler", "strictARP", "tcpTimeout", "tcpFinTimeout", "udpTimeout")
        ipvs["excludeCIDRs"] = .list(.scalar)
        top["ipvs"] = .object(ipvs)
        top["nftables"] = .object(fields("masqueradeBit", "masqueradeAll", "syncPeriod", "minSyncPeriod", "layout"))
        top["winkernel"] = .object(fields("networkName", "sourceVip", "enableDSR", "rootHnsEndpointName", "forwardHealthCheckVip"))
        top["detectLocal"] = .object(fields("bridgeInterface", "interfaceNamePrefix"))
        top["conntrack"] = .object(fields("maxPerCore", "min", "tcpEstablishedTimeout", "tcpCloseWaitTimeout", "tcpBeLiberal",
                                          "udpTimeout", "udpStreamTimeout"))
        return .object(top)
    }()
}
