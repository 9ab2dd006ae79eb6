import Foundation
import Yams

/// A kubeconfig file (clusters, users, contexts), as `kubectl` and kube-proxy's `--kubeconfig` read it.
public struct Kubeconfig: Decodable, Sendable {
    public struct NamedCluster: Decodable, Sendable { public var name: String; public var cluster: Cluster }
    public struct Cluster: Decodable, Sendable {
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        enum CodingKeys: String, CodingKey {
            case server, certificateAuthority = "certificate-authority", certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }
    public struct NamedUser: Decodable, Sendable { public var name: String; public var user: User }
    public struct User: Decodable, Sendable {
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var token: String?
        public var tokenFile: String?
        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate", clientCertificateData = "client-certificate-data"
            case clientKey = "client-key", clientKeyData = "client-key-data", token, tokenFile
        }
    }
    public struct NamedContext: Decodable, Sendable { public var name: String; public var context: Context }
    public struct Context: Decodable, Sendable { public var cluster: String; public var user: String? }

    public var clusters: [NamedCluster]?
    public var users: [NamedUser]?
    public var contexts: [NamedContext]?
    public var currentContext: String?
    enum CodingKeys: String, CodingKey { case clusters, users, contexts, currentContext = "current-context" }

    /// Reads and resolves `path`: the current context (or `context`), with relative file paths
    /// taken from the kubeconfig's folder, and `master` (`--master`) overriding the server.
    public static func load(path: String, context: String? = nil, master: String? = nil) throws -> APIServerConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw APIConfigError(code: .unreadable, source: path, detail: "cannot read the kubeconfig")
        }
        let file: Kubeconfig
        do { file = try YAMLDecoder().decode(Kubeconfig.self, from: text) } catch {
            throw APIConfigError(code: .invalid, source: path, detail: "not a kubeconfig: \(error)")
        }
        return try file.resolve(source: path, directory: (path as NSString).deletingLastPathComponent, context: context, master: master)
    }

    /// The server and credentials of one context.
    public func resolve(source: String, directory: String, context name: String? = nil, master: String? = nil) throws -> APIServerConfig {
        func fail(_ detail: String) -> APIConfigError { APIConfigError(code: .invalid, source: source, detail: detail) }
        guard let contextName = name ?? currentContext else { throw fail("current-context: not set (and no context given)") }
        guard let context = contexts?.first(where: { $0.name == contextName })?.context else {
            throw fail("contexts: no context named \"\(contextName)\"")
        }
        guard let cluster = clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw fail("clusters: no cluster named \"\(context.cluster)\" (context \"\(contextName)\")")
        }
        let user = context.user.flatMap { u in users?.first(where: { $0.name == u })?.user }
        if let u = context.user, user == nil { throw fail("users: no user named \"\(u)\" (context \"\(contextName)\")") }
        guard let server = master ?? cluster.server else { throw fail("clusters[\(context.cluster)].cluster.server: missing") }
        func bytes(data: String?, file: String?, field: String) throws -> [UInt8]? {
            if let data {
                guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else { throw fail("\(field)-data: not base64") }
                return Array(decoded)
            }
            guard let file else { return nil }
            let full = file.hasPrefix("/") ? file : directory + "/" + file
            guard let content = FileManager.default.contents(atPath: full) else { throw fail("\(field): cannot read \(full)") }
            return Array(content)
        }
        let tokenFile = user?.tokenFile.map { $0.hasPrefix("/") ? $0 : directory + "/" + $0 }
        return APIServerConfig(
            server: server,
            certificateAuthority: try bytes(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority, field: "certificate-authority"),
            clientCertificate: try bytes(data: user?.clientCertificateData, file: user?.clientCertificate, field: "client-certificate"),
            clientKey: try bytes(data: user?.clientKeyData, file: user?.clientKey, field: "client-key"),
            bearerToken: user?.token, tokenFile: tokenFile, insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false)
    }
}

extension APIServerConfig {
    /// The service account's view from inside a Pod: KUBERNETES_SERVICE_HOST/PORT, the mounted CA
    /// and token (the token file is re-read, so rotation is followed).
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = "/var/run/secrets/kubernetes.io/serviceaccount") throws -> APIServerConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"], !host.isEmpty else {
            throw APIConfigError(code: .notInCluster, source: "environment",
                                 detail: "KUBERNETES_SERVICE_HOST/PORT are not set: give --kubeconfig (or --manifests) outside a cluster")
        }
        guard FileManager.default.isReadableFile(atPath: directory + "/token") else {
            throw APIConfigError(code: .notInCluster, source: directory + "/token", detail: "no service account token mounted")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return APIServerConfig(server: "https://\(hostPart):\(port)", certificateAuthority: FileManager.default.contents(atPath: directory + "/ca.crt").map(Array.init),
                               tokenFile: directory + "/token")
    }
}
