import Foundation
import KubeProxyModel
import KubeProxyRuntime
import Testing

/// `/healthz` per IP family, as upstream since 1.33: one late family makes the proxy unhealthy.
@Suite("Proxier health: per family, node eligibility")
struct ProxierHealthTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a family with a change queued past the timeout is unhealthy even when the other is up to date")
    func perFamily() {
        let health = ProxierHealth(timeout: .seconds(60))
        health.updated(.ipv4, at: Self.t0)
        health.updated(.ipv6, at: Self.t0)
        #expect(health.check(now: Self.t0 + 1000).healthy, "nothing queued: healthy however old the last sync")
        health.queued(.ipv4, at: Self.t0 + 10)
        health.queued(.ipv6, at: Self.t0 + 10)
        health.updated(.ipv4, at: Self.t0 + 20)
        let late = health.check(now: Self.t0 + 71)
        #expect(!late.healthy && late.lastUpdated == Self.t0, "IPv6 still waits; its own last update is reported")
        #expect(health.response(livez: true, now: Self.t0 + 71).status == 503)
        health.updated(.ipv6, at: Self.t0 + 72)
        let fine = health.check(now: Self.t0 + 73)
        #expect(fine.healthy && fine.lastUpdated == Self.t0 + 72)
        health.queued(.ipv6, at: Self.t0 + 80)
        health.queued(.ipv6, at: Self.t0 + 130)
        #expect(!health.check(now: Self.t0 + 141).healthy, "the oldest queued change counts")
    }

    @Test("a node being deleted, or tainted by the Cluster Autoscaler, is not eligible: /healthz 503, /livez 200")
    func eligibility() throws {
        func node(_ yaml: String) throws -> Node {
            var manifests = Manifests()
            try manifests.decode("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n" + yaml, source: "t")
            return try #require(manifests.nodes.first)
        }
        #expect(try node("").isEligible)
        #expect(try !node("spec: {taints: [{key: ToBeDeletedByClusterAutoscaler, value: \"1\", effect: NoSchedule}]}").isEligible)
        #expect(try node("spec: {taints: [{key: other, effect: NoSchedule}]}").isEligible)
        let health = ProxierHealth(timeout: .seconds(60))
        health.updated(.ipv4, at: Self.t0)
        health.setNodeEligible(false)
        #expect(health.response(livez: false, now: Self.t0).status == 503)
        #expect(health.response(livez: true, now: Self.t0).status == 200)
        #expect(health.response(livez: false, now: Self.t0).body.contains("\"nodeEligible\": false"))
    }
}
