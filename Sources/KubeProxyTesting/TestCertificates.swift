import Foundation
import NIOSSL

/// A throw-away PKI for TLS tests, made with `openssl`: a CA, a server certificate for the given
/// IP addresses (and `localhost`), and a client certificate, all PEM files in `directory`.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caPath: String { directory + "/ca.pem" }
    public var serverCertPath: String { directory + "/server.pem" }
    public var serverKeyPath: String { directory + "/server-key.pem" }
    public var clientCertPath: String { directory + "/client.pem" }
    public var clientKeyPath: String { directory + "/client-key.pem" }

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Generates everything in a new temporary folder.
    public init(ips: [String] = ["127.0.0.1"]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("skp-pki-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let san = (["DNS:localhost"] + ips.map { "IP:\($0)" }).joined(separator: ",")
        let script = """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=skp-test-ca 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server-key.pem -out server.csr -subj /CN=kube-apiserver 2>/dev/null
            printf 'subjectAltName=\(san)\\nextendedKeyUsage=serverAuth\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout client-key.pem -out client.csr -subj /CN=system:kube-proxy 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "openssl failed (status \(process.terminationStatus))") }
    }

    /// The server's TLS context; with `requireClientCertificate`, clients must present one signed by the CA.
    public func serverContext(requireClientCertificate: Bool) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(serverCertPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: serverKeyPath, format: .pem)))
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// A kubeconfig for `server`: the CA, and either the client certificate or a token file.
    public func kubeconfig(server: String, tokenFile: String? = nil) -> String {
        Paths(ca: caPath, clientCert: clientCertPath, clientKey: clientKeyPath).kubeconfig(server: server, tokenFile: tokenFile)
    }

    /// Where a copy of the CA and client files lives.
    public struct Paths: Sendable {
        public var ca: String, clientCert: String, clientKey: String
        public init(ca: String, clientCert: String, clientKey: String) {
            self.ca = ca
            self.clientCert = clientCert
            self.clientKey = clientKey
        }
    }
}

extension TestCertificates.Paths {
    /// A kubeconfig for `server`: the CA, and either the client certificate or a token file.
    public func kubeconfig(server: String, tokenFile: String? = nil) -> String {
        let caPath = ca, clientCertPath = clientCert, clientKeyPath = clientKey
        let user = tokenFile.map { "    tokenFile: \($0)" } ?? "    client-certificate: \(clientCertPath)\n    client-key: \(clientKeyPath)"
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: \(server)
                certificate-authority: \(caPath)
            users:
            - name: kube-proxy
              user:
            \(user)
            contexts:
            - name: test
              context:
                cluster: test
                user: kube-proxy
            current-context: test

            """
    }
}
