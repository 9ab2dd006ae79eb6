import Foundation
import KubeProxyAPI
import Testing

@Suite("kubeconfig and in-cluster configuration")
struct KubeconfigTests {
    static func write(_ text: String, name: String = "config") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("skp-kc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "CA-PEM".write(to: dir.appendingPathComponent("ca.crt"), atomically: true, encoding: .utf8)
        try "tok-1\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let twoContexts = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: a
          cluster: {server: "https://198.18.2.1:6443", certificate-authority: ca.crt}
        - name: b
          cluster: {server: "https://198.18.2.9:6443", insecure-skip-tls-verify: true, certificate-authority-data: \(Data("DATA-CA".utf8).base64EncodedString())}
        users:
        - name: file-token
          user: {tokenFile: token}
        - name: fixed
          user: {token: abc, client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString())}
        contexts:
        - {name: one, context: {cluster: a, user: file-token}}
        - {name: two, context: {cluster: b, user: fixed}}
        current-context: one
        """

    @Test("the current context: server, CA file relative to the kubeconfig, token file read now and again after rotation")
    func currentContext() throws {
        let path = try Self.write(Self.twoContexts)
        let config = try Kubeconfig.load(path: path)
        #expect(config.server == "https://198.18.2.1:6443")
        #expect(config.certificateAuthority == Array("CA-PEM".utf8))
        #expect(!config.insecureSkipTLSVerify)
        #expect(config.currentToken() == "tok-1")
        try "tok-2".write(toFile: config.tokenFile!, atomically: true, encoding: .utf8)
        #expect(config.currentToken() == "tok-2")
    }

    @Test("another context: inline data, fixed token, insecure only because the file says so; --master overrides the server")
    func otherContext() throws {
        let path = try Self.write(Self.twoContexts)
        let config = try Kubeconfig.load(path: path, context: "two", master: "https://198.18.2.10:443")
        #expect(config.server == "https://198.18.2.10:443")
        #expect(config.certificateAuthority == Array("DATA-CA".utf8))
        #expect(config.clientCertificate == Array("CERT".utf8) && config.clientKey == Array("KEY".utf8))
        #expect(config.currentToken() == "abc")
        #expect(config.insecureSkipTLSVerify)
    }

    @Test("errors name the file and the field")
    func errors() throws {
        let missingCluster = try Self.write("clusters: []\ncontexts:\n- {name: x, context: {cluster: nope}}\ncurrent-context: x\n")
        #expect(throws: APIConfigError.self) { try Kubeconfig.load(path: missingCluster) }
        do { _ = try Kubeconfig.load(path: missingCluster) } catch let e as APIConfigError {
            #expect(e.description.contains("clusters: no cluster named \"nope\""))
            #expect(e.description.hasPrefix(missingCluster))
        }
        let noContext = try Self.write("clusters: []\n")
        do { _ = try Kubeconfig.load(path: noContext); Issue.record("expected an error") } catch let e as APIConfigError {
            #expect(e.detail.contains("current-context"))
        }
        do { _ = try Kubeconfig.load(path: "/nonexistent/kubeconfig"); Issue.record("expected an error") } catch let e as APIConfigError {
            #expect(e.code == .unreadable)
        }
    }

    @Test("in-cluster: the service host and port, the mounted CA and token file")
    func inCluster() throws {
        let dir = (try Self.write("x")) as NSString
        let config = try APIServerConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "198.18.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                                   directory: dir.deletingLastPathComponent)
        #expect(config.server == "https://198.18.0.1:443")
        #expect(config.certificateAuthority == Array("CA-PEM".utf8))
        #expect(config.currentToken() == "tok-1")
        let v6 = try APIServerConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "2001:2::1", "KUBERNETES_SERVICE_PORT": "443"],
                                               directory: dir.deletingLastPathComponent)
        #expect(v6.server == "https://[2001:2::1]:443")
        #expect(throws: APIConfigError.self) { try APIServerConfig.inCluster(environment: [:]) }
    }
}
