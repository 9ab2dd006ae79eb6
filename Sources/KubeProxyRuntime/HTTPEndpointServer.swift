import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A small HTTP/1.1 server on SwiftNIO (optionally TLS): each request goes to `handler`, which
/// writes the response through a ``HTTPResponseWriter`` — at once, or streamed over time.
public final class HTTPEndpointServer: ServiceLifecycle.Service {
    /// One request: method, path with query, headers.
    public struct Request: Sendable {
        public var method: HTTPMethod
        public var uri: String
        public var headers: HTTPHeaders
        /// The path without the query.
        public var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }
        /// The query items, percent-decoded.
        public var query: [String: String] {
            guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
            var items: [String: String] = [:]
            for pair in q.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                items[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
            return items
        }
    }

    public typealias Handler = @Sendable (Request, HTTPResponseWriter) async throws -> Void

    let channel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    /// The port bound (useful with port 0).
    public let port: Int
    private let handler: Handler
    private let logger: Logger

    /// Binds `host:port`; serve with ``run()``.
    public init(host: String, port requestedPort: Int, tls: NIOSSLContext? = nil, logger: Logger, handler: @escaping Handler) async throws {
        self.handler = handler
        self.logger = logger
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: requestedPort, childChannelInitializer: Self.initializer(tls: tls))
        port = channel.channel.localAddress?.port ?? requestedPort
    }

    /// Serves on a socket already bound and listening (e.g. one made inside another network namespace).
    public init(boundSocket: Int32, tls: NIOSSLContext? = nil, logger: Logger, handler: @escaping Handler) async throws {
        self.handler = handler
        self.logger = logger
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(boundSocket, childChannelInitializer: Self.initializer(tls: tls))
        port = channel.channel.localAddress?.port ?? 0
    }

    private static func initializer(tls: NIOSSLContext?) -> @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>> {
        { child in
            child.eventLoop.makeCompletedFuture {
                if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                try child.pipeline.syncOperations.configureHTTPServerPipeline()
                return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: child)
            }
        }
    }

    /// Serves until the task is cancelled, the service group shuts down gracefully, or ``close()``.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.acceptConnections() }
        } catch is CancellationError {
            return
        }
    }

    /// Stops accepting: ``run()`` returns once the connections open now are served.
    public func close() { channel.channel.close(promise: nil) }

    private func acceptConnections() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await channel.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h): head = h
                    case .body: continue
                    case .end:
                        guard let h = head else { continue }
                        let writer = HTTPResponseWriter(outbound: outbound, version: h.version)
                        try await handler(Request(method: h.method, uri: h.uri, headers: h.headers), writer)
                        if !h.isKeepAlive || writer.streamed { return }
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }
}

/// Writes one response: ``respond(status:contentType:body:headers:)`` for a whole body, or
/// ``startStream(status:contentType:)`` then ``write(_:)`` for a chunked one (ended by returning).
public final class HTTPResponseWriter: @unchecked Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    let version: HTTPVersion
    private(set) var streamed = false

    init(outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, version: HTTPVersion) {
        self.outbound = outbound
        self.version = version
    }

    public func respond(status: HTTPResponseStatus, contentType: String, body: String, headers extra: [(String, String)] = []) async throws {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", String(body.utf8.count))])
        for (name, value) in extra { headers.add(name: name, value: value) }
        try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
        try await outbound.write(.end(nil))
    }

    /// Starts a chunked response; the connection closes when the handler returns.
    public func startStream(status: HTTPResponseStatus, contentType: String) async throws {
        streamed = true
        let headers = HTTPHeaders([("Content-Type", contentType), ("Transfer-Encoding", "chunked")])
        try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
    }

    public func write(_ text: String) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
    }

    /// Ends a streamed response cleanly (without it, the peer sees the connection drop mid-body).
    public func end() async throws { try await outbound.write(.end(nil)) }
}
