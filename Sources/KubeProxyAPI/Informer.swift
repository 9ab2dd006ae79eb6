import Foundation
import KubeProxyModel
import Logging
import NIOCore
import Synchronization

/// Lists then watches one resource, keeping every object by `namespace/name`: pages of
/// `pageSize` (`limit`/`continue`), a watch from the list's resourceVersion with bookmarks, a
/// re-watch when the server ends the stream, a relist on 410 Gone, and a jittered exponential
/// backoff after errors. `onChange` runs after every change to the store; ``takeChanges()`` says
/// which objects changed since it was last called (a relist counts what differs from the store).
public final class Informer<Object: APIObject>: Sendable {
    public let resource: APIResource
    let client: APIClient
    let logger: Logger
    let onChange: @Sendable () -> Void
    public let settings: InformerSettings
    private struct Store {
        var objects: [String: Object] = [:]
        /// Changed since the last ``takeChanges()``: the object now, or nil when deleted.
        var pending: [String: Object?] = [:]
    }
    private let store = Mutex(Store())
    private let counters = Mutex(Counters())

    /// What happened so far (for tests, logs and metrics).
    public struct Counters: Sendable, Hashable {
        public var lists = 0, watches = 0, events = 0, relistsAfterGone = 0, errors = 0, skippedObjects = 0
        public var synced = false
        public var resourceVersion: String?
    }

    /// Whether a 404 (the API server does not serve the resource) counts as an empty, synced
    /// collection instead of an error.
    public let optional: Bool

    public init(resource: APIResource, client: APIClient, settings: InformerSettings = InformerSettings(), optional: Bool = false,
                logger: Logger, onChange: @escaping @Sendable () -> Void) {
        self.resource = resource
        self.optional = optional
        self.client = client
        self.settings = settings
        self.logger = logger
        self.onChange = onChange
    }

    public var objects: [Object] { store.withLock { Array($0.objects.values) } }
    public var count: Int { store.withLock { $0.objects.count } }

    /// The objects changed since the last call (every object, the first time after the list).
    public func takeChanges() -> [String: Object?] {
        store.withLock { store in
            defer { store.pending = [:] }
            return store.pending
        }
    }
    public var stats: Counters { counters.withLock { $0 } }
    public var hasSynced: Bool { counters.withLock { $0.synced } }

    /// Runs until the task is cancelled.
    public func run() async {
        var backoff = settings.initialBackoff
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil { resourceVersion = try await relist() }
                try await watch(from: &resourceVersion)
                backoff = settings.initialBackoff
            } catch let error as APIError where error.isGone {
                counters.withLock { $0.relistsAfterGone += 1 }
                logger.info("resourceVersion too old (410 Gone): relisting", metadata: ["resource": "\(resource.path)"])
                resourceVersion = nil
            } catch is CancellationError {
                return
            } catch let error as APIError where error.status == 404 && optional {
                counters.withLock { $0.synced = true }
                onChange()
                logger.info("not served by this API server; treated as empty", metadata: ["resource": "\(resource.path)"])
                return
            } catch {
                if Task.isCancelled { return }
                counters.withLock { $0.errors += 1 }
                // Jitter: sleep between the backoff and twice it (client-go's jitter factor 1.0).
                let pause = backoff * Double.random(in: 1...2)
                logger.warning("list/watch failed; retrying", metadata: ["resource": "\(resource.path)", "error": "\(error)", "in": "\(pause)"])
                try? await Task.sleep(for: pause)
                backoff = min(backoff * 2, settings.maxBackoff)
            }
        }
    }

    /// Lists every page and replaces the store; returns the list's resourceVersion.
    func relist() async throws -> String {
        var fresh: [String: Object] = [:]
        var token: String?
        var resourceVersion = ""
        var skipped = 0
        repeat {
            var query = [("limit", String(settings.pageSize))]
            if let token { query.append(("continue", token)) }
            let data = try await client.get(resource.url(query))
            let page = try JSONDecoder().decode(ListPage<Object>.self, from: data)
            for item in page.items ?? [] {
                if let value = item.value { fresh[value.metadata.namespacedName] = value } else {
                    skipped += 1
                    logger.warning("skipping object", metadata: ["resource": "\(resource.path)", "object": "\(item.key ?? "?")", "reason": "\(item.problem ?? "")"])
                }
            }
            resourceVersion = page.metadata?.resourceVersion ?? resourceVersion
            token = page.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        store.withLock { store in
            for (key, object) in fresh where object.metadata.resourceVersion == nil || store.objects[key]?.metadata.resourceVersion != object.metadata.resourceVersion {
                store.pending[key] = .some(object)
            }
            for key in store.objects.keys where fresh[key] == nil { store.pending[key] = .some(nil) }
            store.objects = fresh
        }
        counters.withLock {
            $0.lists += 1
            $0.synced = true
            $0.resourceVersion = resourceVersion
            $0.skippedObjects += skipped
        }
        onChange()
        return resourceVersion
    }

    /// Watches from `resourceVersion`, applying events, until the server ends the stream.
    func watch(from resourceVersion: inout String?) async throws {
        let timeout = Int.random(in: settings.watchTimeout)
        let query = [("watch", "true"), ("resourceVersion", resourceVersion ?? ""), ("allowWatchBookmarks", "true"),
                     ("timeoutSeconds", String(timeout))]
        counters.withLock { $0.watches += 1 }
        let lines = try await client.lines(resource.url(query), deadline: .now() + .seconds(Int64(timeout + 30)))
        let decoder = JSONDecoder()
        for try await line in lines {
            let event: WatchEvent<Object>
            do { event = try decoder.decode(WatchEvent<Object>.self, from: line) } catch {
                logger.warning("undecodable watch event; skipped", metadata: ["resource": "\(resource.path)", "error": "\(error)"])
                continue
            }
            switch event.type {
            case "ERROR":
                let status = event.status?.code ?? 0
                throw APIError(status: status, path: resource.path, body: event.status?.message ?? "watch error")
            case "BOOKMARK":
                break
            case "ADDED", "MODIFIED", "DELETED":
                guard let lossy = event.object else { continue }
                guard let object = lossy.value else {
                    counters.withLock { $0.skippedObjects += 1 }
                    logger.warning("skipping object", metadata: ["resource": "\(resource.path)", "object": "\(lossy.key ?? "?")", "reason": "\(lossy.problem ?? "")"])
                    continue
                }
                let key = object.metadata.namespacedName
                store.withLock { store in
                    let now: Object? = event.type == "DELETED" ? nil : object
                    store.objects[key] = now
                    store.pending[key] = .some(now)
                }
                counters.withLock { $0.events += 1 }
                onChange()
            default:
                continue
            }
            if let rv = event.resourceVersion {
                resourceVersion = rv
                counters.withLock { $0.resourceVersion = rv }
            }
        }
    }
}

/// An informer's timing knobs (client-go's values by default).
public struct InformerSettings: Sendable {
    public var pageSize = 500
    /// Each watch asks the server to end it after a random time in this range (seconds).
    public var watchTimeout: ClosedRange<Int> = 300...600
    public var initialBackoff: Duration = .milliseconds(800)
    public var maxBackoff: Duration = .seconds(30)
    public init() {}
}
