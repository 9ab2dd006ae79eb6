import KubeProxyModel

/// Turns a `Service` into the `ServicePortInfo`s of one IP family, as upstream's
/// `newBaseServiceInfo` does.
enum ServiceConversion {
    static func ports(of service: Service, family: IPFamily) -> Result<[ServicePortInfo], SkippedObject> {
        let namespace = service.metadata.namespace ?? "default"
        let name = service.metadata.name ?? ""
        let label = SkippedObject.label("Service", namespace: namespace, name: name)
        func fail(_ field: String, _ reason: String) -> Result<[ServicePortInfo], SkippedObject> {
            .failure(SkippedObject(object: label, field: field, reason: reason))
        }
        if let reason = NameValidation.dns1123Label(namespace) { return fail("metadata.namespace", reason) }
        if let reason = NameValidation.dns1035Label(name) { return fail("metadata.name", reason) }
        let spec = service.spec
        let type = (spec.type?.isEmpty ?? true) ? "ClusterIP" : spec.type!
        if type == "ExternalName" { return .success([]) }
        if case .failure(let problem) = validatePorts(spec.ports ?? [], label: label) { return .failure(problem) }
        let knownTypes = ["ClusterIP", "NodePort", "LoadBalancer"]
        guard knownTypes.contains(type) else { return fail("spec.type", "unsupported type \"\(type)\"") }

        // The ClusterIP of this family: from clusterIPs, else clusterIP.
        let candidates = (spec.clusterIPs ?? []) + [spec.clusterIP].compactMap { $0 }
        if candidates.isEmpty || candidates.first == "None" || candidates.first == "" {
            return .success([]) // headless
        }
        var clusterIP: IPAddress?
        for (index, text) in candidates.enumerated() {
            guard let ip = IPAddress(sloppy: text) else {
                let field = index < (spec.clusterIPs ?? []).count ? "spec.clusterIPs[\(index)]" : "spec.clusterIP"
                return fail(field, "invalid IP address \"\(text)\"")
            }
            if ip.family == family && clusterIP == nil { clusterIP = ip }
        }
        guard let clusterIP else { return .success([]) } // a Service of the other family only

        var externalIPs: [IPAddress] = []
        for (i, text) in (spec.externalIPs ?? []).enumerated() {
            guard let ip = IPAddress(sloppy: text) else { return fail("spec.externalIPs[\(i)]", "invalid IP address \"\(text)\"") }
            if ip.family == family { externalIPs.append(ip) }
        }
        var vips: [IPAddress] = []
        for (i, ingress) in (service.status?.loadBalancer?.ingress ?? []).enumerated() {
            guard let text = ingress.ip, !text.isEmpty else { continue }
            if ingress.ipMode == "Proxy" { continue }
            guard let ip = IPAddress(sloppy: text) else {
                return fail("status.loadBalancer.ingress[\(i)].ip", "invalid IP address \"\(text)\"")
            }
            if ip.family == family { vips.append(ip) }
        }
        var sourceRanges: [CIDR] = []
        for (i, text) in (spec.loadBalancerSourceRanges ?? []).enumerated() {
            // An unusable range would silently widen access: skip the whole Service instead.
            guard let cidr = CIDR(sloppy: text) else {
                return fail("spec.loadBalancerSourceRanges[\(i)]", "invalid CIDR \"\(text)\"")
            }
            if cidr.family == family { sourceRanges.append(cidr) }
        }
        var affinity: Int?
        if spec.sessionAffinity == "ClientIP" {
            let timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800
            guard (1...86400).contains(timeout) else {
                return fail("spec.sessionAffinityConfig.clientIP.timeoutSeconds", "must be between 1 and 86400, got \(timeout)")
            }
            affinity = timeout
        }
        let externallyAccessibleType = type == "LoadBalancer" || type == "NodePort"
            || (type == "ClusterIP" && !(spec.externalIPs ?? []).isEmpty)
        let externalLocal = externallyAccessibleType && spec.externalTrafficPolicy == "Local"
        let healthCheckPort = (type == "LoadBalancer" && externalLocal) ? (spec.healthCheckNodePort ?? 0) : 0
        guard (0...65535).contains(healthCheckPort) else {
            return fail("spec.healthCheckNodePort", "must be between 0 and 65535, got \(healthCheckPort)")
        }

        var result: [ServicePortInfo] = []
        for (i, port) in (spec.ports ?? []).enumerated() {
            let protocolText = port.protocol ?? "TCP"
            guard let proto = L4Protocol(rawValue: protocolText) else {
                return fail("spec.ports[\(i)].protocol", "unsupported protocol \"\(protocolText)\"")
            }
            guard let number = port.port, (1...65535).contains(number) else {
                return fail("spec.ports[\(i)].port", "must be between 1 and 65535, got \(port.port.map(String.init) ?? "nothing")")
            }
            let nodePort = port.nodePort ?? 0
            guard (0...65535).contains(nodePort) else {
                return fail("spec.ports[\(i)].nodePort", "must be between 0 and 65535, got \(nodePort)")
            }
            let portName = ServicePortName(namespace: namespace, name: name, port: port.name ?? "", protocol: proto)
            result.append(ServicePortInfo(
                name: portName, clusterIP: clusterIP, port: number, nodePort: nodePort,
                externalIPs: externalIPs, loadBalancerVIPs: vips, loadBalancerSourceRanges: sourceRanges,
                stickyMaxAgeSeconds: affinity, externalPolicyLocal: externalLocal,
                internalPolicyLocal: spec.internalTrafficPolicy == "Local", healthCheckNodePort: healthCheckPort))
        }
        return .success(result)
    }

    /// The API server's checks of `spec.ports` names and keys: a name is a DNS-1123 label, required
    /// when there are several ports, unique; no two ports share a port number and protocol.
    static func validatePorts(_ ports: [Service.Port], label: String) -> Result<Void, SkippedObject> {
        var names = Set<String>(), keys = Set<String>()
        for (i, port) in ports.enumerated() {
            let name = port.name ?? ""
            let problem: (field: String, reason: String)?
            if name.isEmpty {
                problem = ports.count > 1 ? ("spec.ports[\(i)].name", "required when the Service has more than one port") : nil
            } else if let reason = NameValidation.dns1123Label(name) {
                problem = ("spec.ports[\(i)].name", reason)
            } else if !names.insert(name).inserted {
                problem = ("spec.ports[\(i)].name", "duplicate value \"\(name)\"")
            } else if let number = port.port, !keys.insert("\(number)/\(port.protocol ?? "TCP")").inserted {
                problem = ("spec.ports[\(i)]", "duplicate value: port \(number) protocol \(port.protocol ?? "TCP")")
            } else {
                problem = nil
            }
            if let problem { return .failure(SkippedObject(object: label, field: problem.field, reason: problem.reason)) }
        }
        return .success(())
    }
}
