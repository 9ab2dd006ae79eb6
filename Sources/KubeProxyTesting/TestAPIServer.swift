import Foundation
import KubeProxyRuntime
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A Kubernetes API server for tests that speaks the real wire format: JSON lists with
/// `metadata.resourceVersion` and `continue` tokens (`limit`), chunked watch streams of
/// ADDED/MODIFIED/DELETED/BOOKMARK/ERROR events, 410 Gone after ``compact()``, streams dropped on
/// demand (also mid-event), label and field selectors, bearer tokens and TLS with client certificates.
public final class TestAPIServer: Sendable {
    /// The metadata selectors look at, kept beside the JSON so that selecting never re-parses it.
    struct Meta { var name: String; var namespace: String?; var labels: [String: String] }
    struct Stored { var json: String; var meta: Meta }
    struct Event { var resourceVersion: Int; var type: String; var key: String; var object: Stored }
    struct Collection {
        var objects: [String: Stored] = [:]
        var history: [Event] = []
    }
    struct Watcher { var path: String; var query: [String: String]; var continuation: AsyncStream<String>.Continuation }
    struct State {
        var resourceVersion = 1000
        var compactedBelow = 0
        var collections: [String: Collection] = [:]
        var watchers: [UUID: Watcher] = [:]
        var requests: [String] = []
        var largestListBody = 0
        var tokens: Set<String>?
        var notServed: Set<String> = []
    }
    private let state = Mutex(State())
    private let server: HTTPEndpointServer
    private let task: Task<Void, any Error>

    /// The base URL (`http://127.0.0.1:port` or `https://...`).
    public let url: String

    /// Starts serving on `host` (port chosen by the system unless given).
    /// - Parameters:
    ///   - namespace: a network namespace (`ip netns`) to listen in instead of the test's own.
    ///   - tokens: when set, requests need `Authorization: Bearer <one of them>`.
    public init(host: String = "127.0.0.1", port: Int = 0, namespace: String? = nil, tls: NIOSSLContext? = nil, tokens: Set<String>? = nil) async throws {
        var logger = Logger(label: "test-api-server")
        logger.logLevel = .critical
        let box = Box()
        let handler: HTTPEndpointServer.Handler = { request, writer in try await box.server?.handle(request, writer) }
        if let namespace {
            let socket = try NamespacedSocket.listen(namespace: namespace, host: host, port: port)
            server = try await HTTPEndpointServer(boundSocket: socket, tls: tls, logger: logger, handler: handler)
        } else {
            server = try await HTTPEndpointServer(host: host, port: port, tls: tls, logger: logger, handler: handler)
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        url = "\(tls == nil ? "http" : "https")://\(hostPart):\(server.port)"
        let s = server
        task = Task { try await s.run() }
        state.withLock { $0.tokens = tokens }
        box.server = self
    }

    /// Stops serving.
    public func stop() {
        dropWatches()
        task.cancel()
    }

    /// The request URIs served so far.
    public var requests: [String] { state.withLock { $0.requests } }
    /// The largest list response sent, in bytes.
    public var largestListBody: Int { state.withLock { $0.largestListBody } }
    /// The open watches.
    public var watchCount: Int { state.withLock { $0.watchers.count } }
    public var currentResourceVersion: Int { state.withLock { $0.resourceVersion } }

    /// Makes `path` answer 404, as an API server that does not serve that resource.
    public func stopServing(_ path: String) { state.withLock { _ = $0.notServed.insert(path) } }

    /// Replaces the accepted bearer tokens (token rotation).
    public func setTokens(_ tokens: Set<String>?) { state.withLock { $0.tokens = tokens } }

    // MARK: Changing the cluster

    /// Adds or replaces an object (JSON with metadata.name and, for namespaced kinds, namespace)
    /// in the collection at `path` (e.g. `/api/v1/services`).
    public func apply(_ path: String, _ object: [String: Any]) {
        change(path, object, deleting: false)
    }

    /// Deletes the object with this metadata.
    public func delete(_ path: String, namespace: String?, name: String) {
        change(path, ["metadata": ["namespace": namespace as Any, "name": name].compactMapValues { $0 is NSNull ? nil : $0 }], deleting: true)
    }

    private func change(_ path: String, _ object: [String: Any], deleting: Bool) {
        var object = object
        var meta = object["metadata"] as? [String: Any] ?? [:]
        let key = "\(meta["namespace"] as? String ?? "")/\(meta["name"] as? String ?? "")"
        state.withLock { s in
            s.resourceVersion += 1
            meta["resourceVersion"] = String(s.resourceVersion)
            object["metadata"] = meta
            // Mutated in place: copying the collection out and back would copy every object per change.
            if s.collections[path] == nil { s.collections[path] = Collection() }
            let type: String
            let stored: Stored
            if deleting {
                guard let old = s.collections[path]!.objects.removeValue(forKey: key) else { s.resourceVersion -= 1; return }
                type = "DELETED"
                stored = Stored(json: Self.withResourceVersion(old.json, s.resourceVersion), meta: old.meta)
            } else {
                type = s.collections[path]!.objects[key] == nil ? "ADDED" : "MODIFIED"
                stored = Stored(json: Self.json(object), meta: Meta(name: meta["name"] as? String ?? "", namespace: meta["namespace"] as? String,
                                                                    labels: meta["labels"] as? [String: String] ?? [:]))
                s.collections[path]!.objects[key] = stored
            }
            let event = Event(resourceVersion: s.resourceVersion, type: type, key: key, object: stored)
            s.collections[path]!.history.append(event)
            for watcher in s.watchers.values where watcher.path == path && Self.matches(stored.meta, watcher.query) {
                watcher.continuation.yield(Self.eventLine(event))
            }
        }
    }

    /// Forgets the event history: a watch from an older resourceVersion gets 410 Gone.
    public func compact() {
        state.withLock { s in
            s.compactedBelow = s.resourceVersion
            for key in s.collections.keys { s.collections[key]?.history = [] }
        }
    }

    /// Sends a BOOKMARK with the current resourceVersion to every watch.
    public func bookmark() {
        state.withLock { s in
            let line = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Bookmark\",\"metadata\":{\"resourceVersion\":\"\(s.resourceVersion)\"}}}\n"
            for watcher in s.watchers.values { watcher.continuation.yield(line) }
        }
    }

    /// Ends every watch stream abruptly; with `midEvent`, after half an event line.
    public func dropWatches(midEvent: Bool = false) {
        state.withLock { s in
            for watcher in s.watchers.values {
                if midEvent { watcher.continuation.yield("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"na") }
                watcher.continuation.yield(Self.dropMarker)
                watcher.continuation.finish()
            }
            s.watchers = [:]
        }
    }

    static let dropMarker = "\u{0}drop"

    // MARK: Serving

    func handle(_ request: HTTPEndpointServer.Request, _ writer: HTTPResponseWriter) async throws {
        let tokens = state.withLock { s -> Set<String>? in
            s.requests.append(request.uri)
            return s.tokens
        }
        if let tokens {
            let auth = request.headers.first(name: "Authorization") ?? ""
            guard auth.hasPrefix("Bearer "), tokens.contains(String(auth.dropFirst(7))) else {
                try await writer.respond(status: .unauthorized, contentType: "application/json", body: Self.status(401, reason: "Unauthorized", message: "Unauthorized"))
                return
            }
        }
        if state.withLock({ $0.notServed.contains(request.path) }) {
            try await writer.respond(status: .notFound, contentType: "application/json", body: Self.status(404, reason: "NotFound", message: "the server could not find the requested resource"))
            return
        }
        let query = request.query
        if query["watch"] == "true" { try await watch(request.path, query, writer) } else { try await list(request.path, query, writer) }
    }

    private func list(_ path: String, _ query: [String: String], _ writer: HTTPResponseWriter) async throws {
        let limit = query["limit"].flatMap(Int.init) ?? Int.max
        let (rv, items, next, gone) = state.withLock { s -> (Int, [String], String?, Bool) in
            var offset = 0, rv = s.resourceVersion
            if let token = query["continue"], !token.isEmpty {
                let parts = token.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2 else { return (0, [], nil, true) }
                if parts[0] < s.compactedBelow { return (0, [], nil, true) }
                rv = parts[0]
                offset = parts[1]
            }
            let all = (s.collections[path]?.objects ?? [:]).sorted { $0.key < $1.key }.map(\.value).filter { Self.matches($0.meta, query) }.map(\.json)
            let page = Array(all.dropFirst(offset).prefix(limit))
            let more = offset + page.count < all.count
            return (rv, page, more ? "\(rv):\(offset + page.count)" : nil, false)
        }
        if gone {
            try await writer.respond(status: .gone, contentType: "application/json", body: Self.status(410, reason: "Expired", message: "The provided continue parameter is too old"))
            return
        }
        let kind = path.split(separator: "/").last.map { $0.prefix(1).uppercased() + $0.dropFirst() } ?? "List"
        let continueField = next.map { ",\"continue\":\"\($0)\"" } ?? ""
        let body: String = "{\"kind\":\"\(kind)List\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"\(rv)\"\(continueField)},\"items\":[" + items.joined(separator: ",") + "]}"
        state.withLock { $0.largestListBody = max($0.largestListBody, body.utf8.count) }
        try await writer.respond(status: .ok, contentType: "application/json", body: body)
    }

    private func watch(_ path: String, _ query: [String: String], _ writer: HTTPResponseWriter) async throws {
        let from = Int(query["resourceVersion"] ?? "") ?? 0
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream()
        let (backlog, tooOld) = state.withLock { s -> ([String], Bool) in
            if from < s.compactedBelow { return ([], true) }
            s.watchers[id] = Watcher(path: path, query: query, continuation: continuation)
            let events = (s.collections[path]?.history ?? []).filter { $0.resourceVersion > from && Self.matches($0.object.meta, query) }
            return (events.map(Self.eventLine), false)
        }
        try await writer.startStream(status: .ok, contentType: "application/json")
        if tooOld {
            try await writer.write("{\"type\":\"ERROR\",\"object\":" + Self.status(410, reason: "Expired", message: "too old resource version: \(from)") + "}\n")
            try await writer.end()
            return
        }
        for line in backlog { try await writer.write(line) }
        let timeout = Int(query["timeoutSeconds"] ?? "") ?? 300
        let timer = Task {
            try await Task.sleep(for: .seconds(timeout))
            continuation.finish()
        }
        defer {
            timer.cancel()
            _ = state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        for await line in stream {
            if line == Self.dropMarker { return }   // no terminating chunk: the client sees the connection drop
            try await writer.write(line)
        }
        try await writer.end()
    }
}

/// Lets the server's handler reach the server object created after it.
private final class Box: @unchecked Sendable {
    weak var server: TestAPIServer?
}
