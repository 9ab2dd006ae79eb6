import Foundation
import KubeProxyAPI
import KubeProxyModel
import KubeProxyTesting
import Logging
import Testing

@Suite("Informers against the test API server", .serialized)
struct InformerTests {
    static var logger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    static var fast: InformerSettings {
        var s = InformerSettings()
        s.pageSize = 2
        s.initialBackoff = .milliseconds(20)
        s.maxBackoff = .milliseconds(100)
        return s
    }

    static func names(_ informer: Informer<Service>) -> [String] { informer.objects.map(\.metadata.namespacedName).sorted() }

    @Test("list in pages, then every event kind; proxied-selector excludes headless and other proxies' Services")
    func listAndWatch() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        for i in 0..<5 { server.apply("/api/v1/services", Objects.service("s\(i)", ip: "198.18.10.\(i)")) }
        server.apply("/api/v1/services", Objects.service("other", ip: "198.18.10.50", labels: ["service.kubernetes.io/service-proxy-name": "x"]))
        server.apply("/api/v1/services", Objects.service("headless", ip: "None", labels: ["service.kubernetes.io/headless": ""]))
        let client = try APIClient(config: APIServerConfig(server: server.url))
        let informer = Informer<Service>(resource: .services, client: client, settings: Self.fast, logger: Self.logger) {}
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { informer.hasSynced })
        #expect(Self.names(informer) == (0..<5).map { "default/s\($0)" })
        // 5 matching objects in pages of 2: three list requests, the later ones with a continue token.
        let lists = server.requests.filter { !$0.contains("watch=true") }
        #expect(lists.count == 3)
        #expect(lists.dropFirst().allSatisfy { $0.contains("continue=") } && lists.allSatisfy { $0.contains("limit=2") })
        #expect(lists[0].contains("labelSelector=%21service.kubernetes.io%2Fservice-proxy-name%2C%21service.kubernetes.io%2Fheadless"))
        #expect(await eventually { server.watchCount == 1 })

        server.apply("/api/v1/services", Objects.service("s5", ip: "198.18.10.5"))
        server.apply("/api/v1/services", Objects.service("s0", ip: "198.18.10.100"))
        server.delete("/api/v1/services", namespace: "default", name: "s1")
        server.apply("/api/v1/services", Objects.service("ignored", ip: "198.18.10.60", labels: ["service.kubernetes.io/service-proxy-name": "x"]))
        #expect(await eventually { Self.names(informer).contains("default/s5") && !Self.names(informer).contains("default/s1") })
        #expect(informer.objects.first { $0.metadata.name == "s0" }?.spec.clusterIP == "198.18.10.100")
        #expect(!Self.names(informer).contains("default/ignored"))
        #expect(informer.stats.events == 3)
        server.bookmark()
        #expect(await eventually { informer.stats.resourceVersion == String(server.currentResourceVersion) })
        #expect(informer.stats.lists == 1)
    }

    @Test("a dropped stream (also mid-event) is re-watched from the last resourceVersion without a relist; 410 Gone relists")
    func reconnectAndRelist() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        server.apply("/api/v1/services", Objects.service("a", ip: "198.18.10.1"))
        let client = try APIClient(config: APIServerConfig(server: server.url))
        let informer = Informer<Service>(resource: .services, client: client, settings: Self.fast, logger: Self.logger) {}
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { server.watchCount == 1 })

        server.dropWatches(midEvent: true)
        server.apply("/api/v1/services", Objects.service("b", ip: "198.18.10.2"))   // while disconnected
        #expect(await eventually { Self.names(informer) == ["default/a", "default/b"] })
        #expect(informer.stats.lists == 1)
        #expect(informer.stats.watches >= 2)
        let lastWatch = server.requests.last { $0.contains("watch=true") } ?? ""
        #expect(lastWatch.contains("resourceVersion=1001"), "re-watch from the last seen version: \(lastWatch)")

        // History compacted while disconnected: the watch gets 410 Gone, the informer relists.
        #expect(await eventually { server.watchCount == 1 })
        server.dropWatches()
        server.delete("/api/v1/services", namespace: "default", name: "a")
        server.compact()
        #expect(await eventually { informer.stats.relistsAfterGone == 1 })
        #expect(await eventually { Self.names(informer) == ["default/b"] })
        #expect(informer.stats.lists == 2)
    }

    @Test("bearer token from a file: a rotated token is used on the next request")
    func tokenRotation() async throws {
        let server = try await TestAPIServer(tokens: ["old"])
        defer { server.stop() }
        server.apply("/api/v1/services", Objects.service("a", ip: "198.18.10.1"))
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("skp-token-\(UUID().uuidString.prefix(6))").path
        try "old".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let client = try APIClient(config: APIServerConfig(server: server.url, tokenFile: tokenFile))
        let informer = Informer<Service>(resource: .services, client: client, settings: Self.fast, logger: Self.logger) {}
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { server.watchCount == 1 })
        try "new".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        server.setTokens(["new"])
        server.dropWatches()
        server.apply("/api/v1/services", Objects.service("b", ip: "198.18.10.2"))
        #expect(await eventually { Self.names(informer) == ["default/a", "default/b"] })
        // One error: the dropped stream. The old token would have added a 401 (and a retry).
        #expect(informer.stats.errors == 1, "the rotated token was accepted at once")
        #expect(informer.stats.lists == 1)

        // A wrong token: 401, retried with backoff, never synced.
        let denied = try APIClient(config: APIServerConfig(server: server.url, bearerToken: "wrong"))
        let refused = Informer<Service>(resource: .services, client: denied, settings: Self.fast, logger: Self.logger) {}
        let t2 = Task { await refused.run() }
        defer { t2.cancel() }
        #expect(await eventually { refused.stats.errors >= 2 })
        #expect(!refused.hasSynced)
    }

    @Test("TLS: the server checked against the kubeconfig's CA, the client by its certificate; a wrong CA fails")
    func tls() async throws {
        let pki = try TestCertificates()
        let server = try await TestAPIServer(tls: try pki.serverContext(requireClientCertificate: true))
        defer { server.stop() }
        server.apply("/api/v1/nodes", Objects.node("node-a", ip: "198.18.2.1"))
        server.apply("/api/v1/nodes", Objects.node("node-b", ip: "198.18.2.5"))
        let kubeconfig = pki.directory + "/kubeconfig"
        try pki.kubeconfig(server: server.url).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let client = try APIClient(config: try Kubeconfig.load(path: kubeconfig))
        let informer = Informer<Node>(resource: .node("node-a"), client: client, settings: Self.fast, logger: Self.logger) {}
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { informer.hasSynced })
        #expect(informer.objects.map(\.metadata.name) == ["node-a"])

        let other = try TestCertificates()
        var wrong = try Kubeconfig.load(path: kubeconfig)
        wrong.certificateAuthority = Array(FileManager.default.contents(atPath: other.caPath)!)
        let refused = Informer<Node>(resource: .node("node-a"), client: try APIClient(config: wrong), settings: Self.fast, logger: Self.logger) {}
        let t2 = Task { await refused.run() }
        defer { t2.cancel() }
        #expect(await eventually(30) { refused.stats.errors >= 1 })   // a TLS refusal can take over 10 s when every core is busy
        #expect(!refused.hasSynced)
    }

    @Test("a bad object is skipped alone, naming it")
    func badObject() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        server.apply("/api/v1/services", Objects.service("good", ip: "198.18.10.1"))
        var bad = Objects.service("bad", ip: "198.18.10.2")
        bad["spec"] = ["ports": "not-a-list"]
        server.apply("/api/v1/services", bad)
        let client = try APIClient(config: APIServerConfig(server: server.url))
        let informer = Informer<Service>(resource: .services, client: client, settings: Self.fast, logger: Self.logger) {}
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await eventually { informer.hasSynced })
        #expect(Self.names(informer) == ["default/good"])
        #expect(informer.stats.skippedObjects == 1)
    }

    @Test("a large cluster (10k Services, 100k endpoints) arrives in bounded pages and decodes whole")
    func largeList() async throws {
        let server = try await TestAPIServer()
        defer { server.stop() }
        for i in 0..<10_000 {
            server.apply("/api/v1/services", Objects.service("s\(i)", ip: "198.18.\(128 + i / 256).\(i % 256)", namespace: "bench"))
            server.apply("/apis/discovery.k8s.io/v1/endpointslices",
                         Objects.slice("s\(i)-1", service: "s\(i)", ips: (0..<10).map { "198.19.\(i / 25).\((i % 25) * 10 + $0)" }, namespace: "bench"))
        }
        let client = try APIClient(config: APIServerConfig(server: server.url))
        let services = Informer<Service>(resource: .services, client: client, logger: Self.logger) {}
        let slices = Informer<EndpointSlice>(resource: .endpointSlices, client: client, logger: Self.logger) {}
        let t1 = Task { await services.run() }, t2 = Task { await slices.run() }
        defer { t1.cancel(); t2.cancel() }
        #expect(await eventually(120) { services.hasSynced && slices.hasSynced })
        #expect(services.count == 10_000 && slices.count == 10_000)
        #expect(slices.objects.reduce(0) { $0 + ($1.endpoints?.count ?? 0) } == 100_000)
        // Pages of 500: 20 list requests per resource, and no response larger than one page.
        #expect(server.requests.filter { $0.hasPrefix("/api/v1/services?") && !$0.contains("watch=true") }.count == 20)
        #expect(server.largestListBody < 1 << 20, "largest list body \(server.largestListBody) bytes")
    }

    @Test("APISource: ServiceCIDRs reach the manifests; an API server that does not serve them (404) still syncs")
    func serviceCIDRs() async throws {
        for served in [true, false] {
            let server = try await TestAPIServer()
            defer { server.stop() }
            server.apply("/api/v1/services", Objects.service("a", ip: "198.18.10.1"))
            server.apply("/api/v1/nodes", Objects.node("node-a", ip: "198.18.2.1"))
            if served {
                server.apply("/apis/networking.k8s.io/v1/servicecidrs", ["apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
                                                                         "metadata": ["name": "kubernetes"], "spec": ["cidrs": ["198.18.10.0/24"]]])
            } else {
                server.stopServing("/apis/networking.k8s.io/v1/servicecidrs")
            }
            let source = APISource(client: try APIClient(config: APIServerConfig(server: server.url)), nodeName: "node-a", settings: Self.fast, logger: Self.logger)
            let task = Task { await source.run() }
            defer { task.cancel() }
            #expect(await eventually { source.hasSynced })
            let manifests = try source.load()
            #expect(manifests.services.count == 1 && manifests.nodes.map(\.metadata.name) == ["node-a"])
            #expect(manifests.serviceCIDRs.flatMap { $0.spec?.cidrs ?? [] } == (served ? ["198.18.10.0/24"] : []))
            #expect(source.serviceCIDRs.stats.errors == 0)
        }
    }
}
