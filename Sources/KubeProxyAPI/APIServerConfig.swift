import Foundation

/// How to reach and authenticate to the API server: resolved from a kubeconfig context, the
/// in-cluster service account, or `--master`.
public struct APIServerConfig: Sendable, Hashable {
    /// `https://host:port` (or `http://` for `--master` without TLS).
    public var server: String
    /// PEM bytes of the CA that signs the server's certificate (nil: the system roots).
    public var certificateAuthority: [UInt8]?
    /// PEM bytes of the client certificate and key (mutual TLS).
    public var clientCertificate: [UInt8]?
    public var clientKey: [UInt8]?
    /// A fixed bearer token.
    public var bearerToken: String?
    /// A file holding the bearer token, re-read so that a rotated token is picked up.
    public var tokenFile: String?
    /// Only when the kubeconfig says `insecure-skip-tls-verify: true`.
    public var insecureSkipTLSVerify: Bool

    public init(server: String, certificateAuthority: [UInt8]? = nil, clientCertificate: [UInt8]? = nil, clientKey: [UInt8]? = nil,
                bearerToken: String? = nil, tokenFile: String? = nil, insecureSkipTLSVerify: Bool = false) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.bearerToken = bearerToken
        self.tokenFile = tokenFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    /// The token to send now: the token file's current content, else the fixed token.
    public func currentToken() -> String? {
        if let tokenFile, let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return token }
        }
        return bearerToken
    }
}

/// A configuration that cannot be used, naming the file and field.
public struct APIConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let unreadable = Code(name: "unreadable")
        public static let invalid = Code(name: "invalid")
        public static let notInCluster = Code(name: "notInCluster")
        public var description: String { name }
    }
    public var code: Code
    public var source: String
    public var detail: String
    public init(code: Code, source: String, detail: String) {
        self.code = code
        self.source = source
        self.detail = detail
    }
    public var description: String { "\(source): \(detail)" }
}
