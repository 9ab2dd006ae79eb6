import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A small Kubernetes API client over AsyncHTTPClient: one GET for a list page, one streaming GET
/// for a watch. TLS as the configuration says; no insecure fallback.
public final class APIClient: Sendable {
    public let config: APIServerConfig
    let http: HTTPClient
    /// The largest list page accepted (pages are asked for with `limit`, so this is a guard only).
    public static let maxPageBytes = 256 << 20

    public init(config: APIServerConfig) throws {
        self.config = config
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: nil))
        if config.server.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            if let ca = config.certificateAuthority {
                do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca)) } catch {
                    throw APIConfigError(code: .invalid, source: "certificate-authority", detail: "not a PEM certificate: \(error)")
                }
            }
            if let cert = config.clientCertificate, let key = config.clientKey {
                do {
                    tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                    tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
                } catch {
                    throw APIConfigError(code: .invalid, source: "client-certificate", detail: "not a PEM certificate and key: \(error)")
                }
            }
            if config.insecureSkipTLSVerify { tls.certificateVerification = .none }
            configuration.tlsConfiguration = tls
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connections (also done, in the background, when the client goes away).
    public func shutdown() async { try? await http.shutdown() }

    deinit { http.shutdown(queue: .global()) { _ in } }

    func request(_ pathAndQuery: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: config.server + pathAndQuery)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "swift-kube-proxy")
        if let token = config.currentToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// GET `pathAndQuery`; the whole body.
    /// - Throws: ``APIError`` for a status other than 200 (410 is ``APIError/isGone``).
    public func get(_ pathAndQuery: String, timeout: TimeAmount = .seconds(60)) async throws -> Data {
        let response = try await http.execute(request(pathAndQuery), timeout: timeout)
        let body = try await response.body.collect(upTo: Self.maxPageBytes)
        guard response.status == .ok else { throw APIError(status: Int(response.status.code), path: pathAndQuery, body: String(buffer: body)) }
        return Data(buffer: body)
    }

    /// GET `pathAndQuery` as a stream of newline-delimited JSON documents (a watch), yielded one
    /// line at a time as they arrive; only the current line is held. The body is read by the task
    /// that iterates (cancelling it ends the watch).
    public func lines(_ pathAndQuery: String, deadline: NIODeadline) async throws -> WatchLineSequence {
        let response = try await http.execute(request(pathAndQuery), deadline: deadline)
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw APIError(status: Int(response.status.code), path: pathAndQuery, body: String(buffer: body))
        }
        return WatchLineSequence(body: response.body)
    }
}

/// The API server answered with an error status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var path: String
    public var body: String
    /// 410 Gone: the resourceVersion is too old; relist.
    public var isGone: Bool { status == 410 }
    public var description: String { "GET \(path): HTTP \(status): \(body.prefix(300))" }
}
