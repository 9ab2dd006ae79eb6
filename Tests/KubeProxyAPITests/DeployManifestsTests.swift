import Foundation
import KubeProxyModel
import Testing
import Yams

/// deploy/: the DaemonSet, RBAC and ConfigMap parse, agree with each other, and the shipped
/// KubeProxyConfiguration is valid.
@Suite("deploy/ manifests")
struct DeployManifestsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func documents(_ file: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: root.appendingPathComponent("deploy/\(file)"), encoding: .utf8)
        return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    @Test("the ConfigMap's config.conf is a valid KubeProxyConfiguration, mounted where the DaemonSet reads it")
    func config() throws {
        let configMap = try #require(try Self.documents("configmap.yaml").first)
        let conf = try #require((configMap["data"] as? [String: Any])?["config.conf"] as? String)
        let config = try KubeProxyConfiguration.strictlyDecoding(conf, source: "config.conf")
        #expect(config.validationErrors() == [])
        #expect(config.resolvedMode == "nftables")

        let ds = try #require(try Self.documents("daemonset.yaml").first)
        let spec = try #require(((ds["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(spec["hostNetwork"] as? Bool == true)
        let container = try #require((spec["containers"] as? [[String: Any]])?.first)
        #expect((container["securityContext"] as? [String: Any])?["privileged"] as? Bool == true)
        let command = container["command"] as? [String] ?? []
        let mounts = container["volumeMounts"] as? [[String: Any]] ?? []
        let configMount = try #require(mounts.first { $0["name"] as? String == "config" }?["mountPath"] as? String)
        #expect(command.contains("--config=\(configMount)/config.conf"))
        #expect(Set(mounts.compactMap { $0["mountPath"] as? String }).isSuperset(of: ["/run/xtables.lock", "/lib/modules"]))
        #expect(spec["serviceAccountName"] as? String == "swift-kube-proxy")
    }

    @Test("the DaemonSet runs the image make image builds (image/build.sh's name:tag; the Containerfile's comment agrees)")
    func image() throws {
        let build = try String(contentsOf: Self.root.appendingPathComponent("image/build.sh"), encoding: .utf8)
        let line = try #require(build.split(separator: "\n").first { $0.hasPrefix("IMAGE=${IMAGE:-") })
        let image = String(line.dropFirst("IMAGE=${IMAGE:-".count).prefix { $0 != "}" })
        #expect(image.contains(":") && !image.hasSuffix(":latest"), "\(image)")
        let ds = try #require(try Self.documents("daemonset.yaml").first)
        let spec = try #require(((ds["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        let container = try #require((spec["containers"] as? [[String: Any]])?.first)
        #expect(container["image"] as? String == image)
        let containerfile = try String(contentsOf: Self.root.appendingPathComponent("Containerfile"), encoding: .utf8)
        #expect(containerfile.contains("-t \(image) "), "the Containerfile's build line names the same image")
    }

    @Test("RBAC grants what the informers list and watch")
    func rbac() throws {
        let docs = try Self.documents("rbac.yaml")
        let role = try #require(docs.first { $0["kind"] as? String == "ClusterRole" })
        let rules = role["rules"] as? [[String: Any]] ?? []
        func allowed(_ group: String, _ resource: String, _ verb: String) -> Bool {
            rules.contains { ($0["apiGroups"] as? [String] ?? []).contains(group) && ($0["resources"] as? [String] ?? []).contains(resource)
                && ($0["verbs"] as? [String] ?? []).contains(verb) }
        }
        for verb in ["list", "watch"] {
            #expect(allowed("", "services", verb))
            #expect(allowed("", "nodes", verb))
            #expect(allowed("discovery.k8s.io", "endpointslices", verb))
        }
        let binding = try #require(docs.first { $0["kind"] as? String == "ClusterRoleBinding" })
        #expect(((binding["subjects"] as? [[String: Any]])?.first?["name"] as? String) == "swift-kube-proxy")
    }
}
